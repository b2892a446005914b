"""Batched quasi-Poisson GLM (log link) fitted by IRLS exactly as R's ``glm.fit`` does.

Farrington-type detectors fit one small GLM per (series, week). Fitting thousands of them one by
one through statsmodels costs milliseconds each; here all problems that share a design matrix
are fitted together with stacked normal equations, which makes a national run (thousands of
series) take seconds.

The iteration mirrors ``stats::glm.fit`` so results agree with R to rounding error:

* start at ``mu = y + 0.1``, ``eta = log(mu)`` (the offset is ignored in the start, as in R);
* working response ``z = eta - offset + (y - mu) / mu``, working weights ``W = w * mu``;
* converged when ``|dev - dev_old| / (|dev| + 0.1) < 1e-8``, at most 25 iterations;
* a converged problem is frozen (R stops iterating), so the reported working weights are the
  ones of the last weighted least-squares step (R's ``$weights``), while fitted values come from
  the final coefficients - which is what ``summary.glm``/``hatvalues``/``predict.glm`` use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BatchGLMFit", "fit_quasipoisson_batch"]

R_EPSILON = 1e-8
R_MAXIT = 25


@dataclass
class BatchGLMFit:
    """Result of :func:`fit_quasipoisson_batch` for ``B`` problems, ``n`` rows, ``p`` columns."""

    coef: np.ndarray  # (B, p)
    mu: np.ndarray  # (B, n) fitted means
    working_weights: np.ndarray  # (B, n) R's $weights (prior * mu of the last WLS step)
    cov_unscaled: np.ndarray  # (B, p, p) (X' W X)^-1, R's summary(...)$cov.unscaled
    dispersion: np.ndarray  # (B,) Pearson dispersion, R's summary(...)$dispersion
    df_residual: np.ndarray  # (B,)
    converged: np.ndarray  # (B,) bool

    def hat_values(self, X: np.ndarray) -> np.ndarray:
        """Leverages (R ``hatvalues``): ``W_i x_i' (X' W X)^-1 x_i``."""
        B, p, _ = self.cov_unscaled.shape
        quad = self.cov_unscaled.reshape(B, p * p) @ _outer_rows(X).T
        return self.working_weights * quad

    def predict_link(
        self,
        x0: np.ndarray,
        offset0: np.ndarray | float = 0.0,
        dispersion: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Linear predictor and its standard error at new rows ``x0`` (shape (p,) or (B, p)).

        By default the standard error uses the estimated (raw, possibly < 1) dispersion, like
        ``predict.glm(se.fit = TRUE)`` without an explicit ``dispersion`` argument.
        """
        x0 = np.broadcast_to(np.asarray(x0, dtype=float), self.coef.shape)
        disp = self.dispersion if dispersion is None else dispersion
        eta = np.einsum("bp,bp->b", x0, self.coef) + offset0
        var = np.einsum("bp,bpq,bq->b", x0, self.cov_unscaled, x0) * disp
        return eta, np.sqrt(np.maximum(var, 0.0))


def _outer_rows(X: np.ndarray) -> np.ndarray:
    """Row-wise outer products ``x_i x_i'`` flattened to (n, p*p): ``X' W X = W @ this``."""
    n, p = X.shape
    return (X[:, :, None] * X[:, None, :]).reshape(n, p * p)


def _deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> np.ndarray:
    # Poisson deviance residuals as in poisson()$dev.resids: 2 w (y log(y/mu) - (y - mu)).
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    r = np.where(y > 0, w * (ylogy - (y - mu)), w * mu)
    return 2.0 * r.sum(axis=1)


def fit_quasipoisson_batch(
    X: np.ndarray,
    y: np.ndarray,
    prior_weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    *,
    maxit: int = R_MAXIT,
    epsilon: float = R_EPSILON,
) -> BatchGLMFit:
    """Fit ``B`` quasi-Poisson log-link GLMs sharing the design ``X`` (n, p).

    ``y``, ``prior_weights`` and ``offset`` have shape (B, n). Rows with prior weight 0 do not
    count towards the residual degrees of freedom (as in R).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    B, n = y.shape
    p = X.shape[1]
    pw = np.ones_like(y) if prior_weights is None else np.asarray(prior_weights, dtype=float)
    off = np.zeros_like(y) if offset is None else np.asarray(offset, dtype=float)

    XX = _outer_rows(X)
    mu = y + 0.1
    eta = np.log(mu)
    dev_old = _deviance(y, mu, pw)
    coef = np.zeros((B, p))
    coef_old = np.full((B, p), np.nan)
    work_w = np.zeros_like(y)
    xtwx = np.zeros((B, p, p))
    converged = np.zeros(B, dtype=bool)

    # Diverging fits (e.g. a trend fitted to one early case and zeros) drive some means to 0;
    # masked branches then overflow harmlessly, and real failures are handled explicitly.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        active = np.arange(y.shape[0])
        for _ in range(maxit):
            if active.size == 0:
                break
            mu_a, eta_a, y_a, pw_a, off_a = (
                mu[active],
                eta[active],
                y[active],
                pw[active],
                off[active],
            )
            W = pw_a * mu_a  # (mu.eta)^2 / V(mu) = mu for the log link
            z = (eta_a - off_a) + (y_a - mu_a) / mu_a
            A = (W @ XX).reshape(-1, p, p)  # X' W X for every problem in one GEMM
            rhs = (W * z) @ X
            try:
                beta = np.linalg.solve(A, rhs[..., None])[..., 0]
            except np.linalg.LinAlgError:
                beta = np.stack(
                    [np.linalg.lstsq(a, r, rcond=None)[0] for a, r in zip(A, rhs, strict=True)]
                )
            eta_new = beta @ X.T + off_a
            mu_new = np.exp(eta_new)
            dev = _deviance(y_a, mu_new, pw_a)

            # R halves the step towards the previous coefficients when the deviance is not finite.
            bad = ~np.isfinite(dev)
            if bad.any():
                prev = coef_old[active]
                for _half in range(maxit):
                    fixable = bad & np.all(np.isfinite(prev), axis=1)
                    if not fixable.any():
                        break
                    beta[fixable] = (beta[fixable] + prev[fixable]) / 2.0
                    eta_new[fixable] = beta[fixable] @ X.T + off_a[fixable]
                    mu_new[fixable] = np.exp(eta_new[fixable])
                    dev[fixable] = _deviance(y_a[fixable], mu_new[fixable], pw_a[fixable])
                    bad = ~np.isfinite(dev)

            coef[active] = beta
            eta[active] = eta_new
            mu[active] = mu_new
            work_w[active] = W
            xtwx[active] = A
            done = np.abs(dev - dev_old[active]) / (np.abs(dev) + 0.1) < epsilon
            failed = ~np.isfinite(dev)
            converged[active[done]] = True
            dev_old[active] = dev
            coef_old[active] = beta
            active = active[~done & ~failed]

    try:
        cov = np.linalg.inv(xtwx)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(xtwx)
    n_ok = (pw > 0).sum(axis=1)
    df = n_ok - p
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = work_w * ((y - mu) / mu) ** 2
        pearson = np.where(pw > 0, pearson, 0.0).sum(axis=1)
        dispersion = np.where(df > 0, pearson / np.maximum(df, 1), np.nan)
    return BatchGLMFit(
        coef=coef,
        mu=mu,
        working_weights=work_w,
        cov_unscaled=cov,
        dispersion=dispersion,
        df_residual=df,
        converged=converged,
    )
