"""The 11 token text properties of Gurnee et al. 2023 (sparse_probing), evaluated with Python's own str
methods and re, the reference for activations/datasets/token-props.ts. Reads a JSON list of strings
on stdin, writes a JSON list of 11-character '0'/'1' strings in TOKEN_PROP_FEATURES order.

Usage: /usr/bin/python3 activations/peers/token_props_python.py < strings.json
"""
import json
import re
import sys


def props(s):
    starts_upper = (len(s) > 1 and s[0] == ' ' and s[1].isupper()) or (len(s) > 0 and s[0] != ' ' and s[0].isupper())
    return [
        re.search(r'\d', s) is not None,                                  # contains_digit
        re.fullmatch(r'\s?\d+', s) is not None,                           # all_digits
        re.search(r'[A-Z]+', s) is not None,                              # contains_capital
        starts_upper,                                                     # leading_capital
        re.fullmatch(r'[\s]*[A-Z]+', s) is not None and s not in {'I', ' I', 'A', ' A'},  # all_capitals
        re.search(r'[\s]', s) is not None,                                # contains_whitespace
        len(s) > 0 and s[0] == ' ',                                       # has_leading_space
        s.isalpha() and s.islower(),                                      # no_leading_space_and_loweralpha
        re.fullmatch(r'[\s]+', s) is not None,                            # contains_all_whitespace
        re.fullmatch(r'[\W]+', s) is not None,                            # is_not_alphanumeric
        not s.isascii(),                                                  # is_not_ascii
    ]


strings = json.load(sys.stdin)
json.dump([''.join('1' if b else '0' for b in props(s)) for s in strings], sys.stdout)
