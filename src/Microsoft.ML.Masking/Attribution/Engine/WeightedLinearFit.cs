namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Weighted linear least squares in double precision for the perturbation surrogates: ridge (closed form by
/// Cholesky), lasso (coordinate descent), both with an unpenalised intercept, and the weighted R² of the fit.
/// Internal: an implementation detail of LIME, KernelSHAP and the linearity check, not a general-purpose solver.
/// </summary>
internal static class WeightedLinearFit
{
    /// <summary>A fitted model: y ≈ Intercept + Σ Coefficients[j]·x[j].</summary>
    /// <param name="intercept">The intercept.</param>
    /// <param name="coefficients">One coefficient per feature.</param>
    /// <param name="weightedRSquared">1 − Σw(y − ŷ)² / Σw(y − ȳ)², ȳ the weighted mean; 1 when y is constant and fitted exactly.</param>
    /// <remarks>A class, not a record: a record's generated equality would compare the coefficient array by reference.</remarks>
    public sealed class Result(double intercept, double[] coefficients, double weightedRSquared)
    {
        /// <summary>The intercept.</summary>
        public double Intercept { get; } = intercept;

        /// <summary>One coefficient per feature.</summary>
        public IReadOnlyList<double> Coefficients { get; } = coefficients;

        /// <summary>The weighted R² of the fit.</summary>
        public double WeightedRSquared { get; } = weightedRSquared;
    }

    /// <summary>Fits <paramref name="kind"/> with penalty <paramref name="alpha"/> to rows x[i] (n × d), targets y and weights w.</summary>
    /// <remarks>The penalties follow scikit-learn: ridge minimises Σw(y − ŷ)² + α‖β‖²; lasso (1 / (2Σw))·Σw(y − ŷ)² + α‖β‖₁.</remarks>
    public static Result Fit(double[,] x, double[] y, double[] w, SurrogateKind kind, double alpha)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        if (y.Length != n || w.Length != n) throw new ArgumentException("x, y and w need one entry per sample.");
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The penalty must be non-negative.");
        double totalWeight = w.Sum();
        if (!(totalWeight > 0)) throw new ArgumentException("The sample weights must have a positive sum.", nameof(w));
        // Centre by weighted means so the intercept is unpenalised.
        var xMean = new double[d];
        double yMean = 0;
        for (int i = 0; i < n; i++)
        {
            yMean += w[i] * y[i];
            for (int j = 0; j < d; j++) xMean[j] += w[i] * x[i, j];
        }
        yMean /= totalWeight;
        for (int j = 0; j < d; j++) xMean[j] /= totalWeight;
        var beta = kind == SurrogateKind.Ridge ? Ridge(x, y, w, xMean, yMean, alpha) : Lasso(x, y, w, xMean, yMean, alpha, totalWeight);
        double intercept = yMean;
        for (int j = 0; j < d; j++) intercept -= beta[j] * xMean[j];
        double residual = 0, total = 0;
        for (int i = 0; i < n; i++)
        {
            double prediction = intercept;
            for (int j = 0; j < d; j++) prediction += beta[j] * x[i, j];
            residual += w[i] * (y[i] - prediction) * (y[i] - prediction);
            total += w[i] * (y[i] - yMean) * (y[i] - yMean);
        }
        double r2 = total > 0 ? 1 - residual / total : (residual <= 1e-24 ? 1 : 0);
        return new Result(intercept, beta, r2);
    }

    private static double[] Ridge(double[,] x, double[] y, double[] w, double[] xMean, double yMean, double alpha)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var a = new double[d, d];
        var b = new double[d];
        var row = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) row[j] = x[i, j] - xMean[j];
            double yc = y[i] - yMean;
            for (int j = 0; j < d; j++)
            {
                double wx = w[i] * row[j];
                b[j] += wx * yc;
                for (int k = 0; k <= j; k++) a[j, k] += wx * row[k];
            }
        }
        // A tiny relative jitter keeps the system solvable when alpha = 0 and a feature never varies.
        double trace = 0;
        for (int j = 0; j < d; j++) trace += a[j, j];
        double jitter = 1e-12 * Math.Max(trace / Math.Max(d, 1), 1e-300);
        for (int j = 0; j < d; j++)
        {
            a[j, j] += alpha + jitter;
            for (int k = 0; k < j; k++) a[k, j] = a[j, k];
        }
        return SolveSymmetric(a, b);
    }

    private static double[] Lasso(double[,] x, double[] y, double[] w, double[] xMean, double yMean, double alpha, double totalWeight)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var beta = new double[d];
        var residual = new double[n];
        var squares = new double[d];
        for (int i = 0; i < n; i++)
        {
            residual[i] = y[i] - yMean;
            for (int j = 0; j < d; j++) squares[j] += w[i] * (x[i, j] - xMean[j]) * (x[i, j] - xMean[j]);
        }
        double threshold = alpha * totalWeight;
        for (int sweep = 0; sweep < 1000; sweep++)
        {
            double largest = 0;
            for (int j = 0; j < d; j++)
            {
                if (squares[j] == 0) continue;
                double rho = 0;
                for (int i = 0; i < n; i++) rho += w[i] * (x[i, j] - xMean[j]) * (residual[i] + beta[j] * (x[i, j] - xMean[j]));
                double updated = Math.Sign(rho) * Math.Max(Math.Abs(rho) - threshold, 0) / squares[j];
                double change = updated - beta[j];
                if (change != 0)
                {
                    for (int i = 0; i < n; i++) residual[i] -= change * (x[i, j] - xMean[j]);
                    beta[j] = updated;
                    largest = Math.Max(largest, Math.Abs(change));
                }
            }
            if (largest < 1e-10) break;
        }
        return beta;
    }

    /// <summary>Solves a symmetric positive definite system by Cholesky.</summary>
    internal static double[] SolveSymmetric(double[,] a, double[] b)
    {
        int d = b.Length;
        var l = new double[d, d];
        for (int j = 0; j < d; j++)
        {
            double sum = a[j, j];
            for (int k = 0; k < j; k++) sum -= l[j, k] * l[j, k];
            if (!(sum > 0)) throw new InvalidOperationException("The surrogate's normal equations are singular; add a penalty (alpha > 0).");
            l[j, j] = Math.Sqrt(sum);
            for (int i = j + 1; i < d; i++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                l[i, j] = s / l[j, j];
            }
        }
        var z = new double[d];
        for (int i = 0; i < d; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i, k] * z[k];
            z[i] = s / l[i, i];
        }
        var result = new double[d];
        for (int i = d - 1; i >= 0; i--)
        {
            double s = z[i];
            for (int k = i + 1; k < d; k++) s -= l[k, i] * result[k];
            result[i] = s / l[i, i];
        }
        return result;
    }
}
