"""Reference values for the probe engine's tests, from scikit-learn (Debian python3-sklearn 1.2).

Regenerate (from the repository root):
    /usr/bin/python3 probes/peers/sklearn_reference.py probes/testdata

Writes, into the given folder:
  sklearn_ref_x.f32   activations, row-major float32 [n_rows x n_cols], little endian
  sklearn_ref_y.u8    labels 0/1, one byte per row
  sklearn_ref.json    shapes, the split, sklearn's fits (coef, intercept, test F1 and other metrics),
                      f_classif / mean-difference / mutual-information scores and orderings

The data imitate MLP activations: GELU-like non-negative-ish neurons, a few of them driven by the
planted binary feature with different strengths, some sharing a latent with it, the rest noise. The
split is the first 70% of rows for training, the rest for testing (rows are i.i.d.).
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.feature_selection import f_classif, mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, average_precision_score, f1_score, matthews_corrcoef,
                             precision_score, recall_score, roc_auc_score)

N_ROWS, N_COLS, SEED = 1600, 32, 20240611


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def make_data():
    rng = np.random.default_rng(SEED)
    y = (rng.random(N_ROWS) < 0.18).astype(np.uint8)
    latent = rng.normal(size=N_ROWS)
    pre = rng.normal(size=(N_ROWS, N_COLS))
    strengths = {0: 1.0, 5: 0.8, 9: 0.6, 17: 0.4, 23: 0.3}
    for j, s in strengths.items():
        pre[:, j] += s * (2.0 * y - 1.0)
    for j in (2, 11, 29):  # correlated with the feature only through a shared latent
        pre[:, j] += 0.6 * latent + 0.4 * y
    scales = 0.5 + rng.random(N_COLS) * 2.0
    x = gelu(pre * scales[None, :]).astype(np.float32)
    return x, y


def metrics(y_true, proba):
    pred = (proba > 0.5).astype(int)
    return {
        'f1': f1_score(y_true, pred, zero_division=0),
        'mcc': matthews_corrcoef(y_true, pred),
        'precision': precision_score(y_true, pred, zero_division=0),
        'recall': recall_score(y_true, pred, zero_division=0),
        'accuracy': accuracy_score(y_true, pred),
        'roc_auc': roc_auc_score(y_true, proba),
        'pr_auc': average_precision_score(y_true, proba),
    }


def order_desc(scores):
    # Best first, ties by lower index (a stable sort of the negated scores).
    return [int(i) for i in np.argsort(-np.asarray(scores), kind='stable')]


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x, y = make_data()
    n_train = int(round(0.7 * N_ROWS))
    xtr, ytr, xte, yte = x[:n_train].astype(np.float64), y[:n_train], x[n_train:].astype(np.float64), y[n_train:]

    mean_dif = np.abs(xtr[ytr == 1].mean(axis=0) - xtr[ytr == 0].mean(axis=0))
    f_stat, _ = f_classif(xtr, ytr)
    mi = mutual_info_classif(xtr, ytr, n_neighbors=3, random_state=0)

    order = order_desc(mean_dif)
    supports = [sorted(order[:k]) for k in (1, 2, 3, 5, 8, 16, 32)] + [[3, 7, 11], [29, 0]]
    fits = []
    for s in supports:
        lr = LogisticRegression(class_weight='balanced', C=1.0, solver='lbfgs', tol=1e-12, max_iter=100000)
        lr.fit(xtr[:, s], ytr)
        proba = lr.predict_proba(xte[:, s])[:, 1]
        saga = LogisticRegression(class_weight='balanced', C=1.0, solver='saga', max_iter=200)
        saga.fit(xtr[:, s], ytr)
        fits.append({
            'neurons': [int(j) for j in s],
            'coef': lr.coef_[0].tolist(),
            'intercept': float(lr.intercept_[0]),
            'test': metrics(yte, proba),
            'saga_max_iter_200_test_f1': f1_score(yte, saga.predict(xte[:, s]), zero_division=0),
        })

    # Metrics on tied scores: probabilities rounded to one decimal (many ties) for one fit.
    tied = np.round(LogisticRegression(class_weight='balanced', C=1.0, max_iter=10000)
                    .fit(xtr[:, supports[2]], ytr).predict_proba(xte[:, supports[2]])[:, 1], 1)

    ref = {
        'command': '/usr/bin/python3 probes/peers/sklearn_reference.py probes/testdata',
        'sklearn_version': sklearn.__version__,
        'numpy_version': np.__version__,
        'n_rows': N_ROWS, 'n_cols': N_COLS, 'n_train': n_train, 'seed': SEED,
        'mean_dif': mean_dif.tolist(), 'mean_dif_order': order,
        'f_stat': f_stat.tolist(), 'f_stat_order': order_desc(f_stat),
        'mutual_info': mi.tolist(), 'mutual_info_order': order_desc(mi),
        'fits': fits,
        'tied_scores': tied.tolist(), 'tied_metrics': metrics(yte, tied),
    }
    x.tofile(os.path.join(out_dir, 'sklearn_ref_x.f32'))
    y.tofile(os.path.join(out_dir, 'sklearn_ref_y.u8'))
    with open(os.path.join(out_dir, 'sklearn_ref.json'), 'w') as f:
        json.dump(ref, f, indent=1)
    print(json.dumps({'written': out_dir, 'fits': len(fits)}))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'probes/testdata')
