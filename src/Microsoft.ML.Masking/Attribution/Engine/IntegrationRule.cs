namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>How Integrated Gradients approximates its path integral (Captum's <c>method</c> argument).</summary>
public enum IntegrationRule
{
    /// <summary>Left Riemann sum: α = 0, 1/n, …, 1 − 1/n, weights 1/n ("riemann_left").</summary>
    RiemannLeft,

    /// <summary>Right Riemann sum: α = 1/n, …, 1, weights 1/n ("riemann_right").</summary>
    RiemannRight,

    /// <summary>Midpoint rule: α = (k + ½)/n, weights 1/n ("riemann_middle").</summary>
    RiemannMiddle,

    /// <summary>Trapezoid rule: α = 0 … 1 evenly (n points), weights 1/n with the end points halved ("riemann_trapezoid").</summary>
    RiemannTrapezoid,

    /// <summary>Gauss–Legendre quadrature on [0, 1] with n nodes ("gausslegendre", Captum's default).</summary>
    GaussLegendre,
}

/// <summary>The points α and weights of each <see cref="IntegrationRule"/>, with Captum's conventions.</summary>
public static class IntegrationRules
{
    /// <summary>The α in [0, 1] at which gradients are taken and the weight of each; the weights sum to 1, except that the
    /// trapezoid rule's sum to 1 − 1/n as Captum's do.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 step (2 for the Riemann rules, as Captum requires).</exception>
    public static (double[] Alphas, double[] Weights) For(IntegrationRule rule, int steps)
    {
        int minimum = rule == IntegrationRule.GaussLegendre ? 1 : 2;
        if (steps < minimum)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{rule} needs at least {minimum} steps.");
        if (rule == IntegrationRule.GaussLegendre)
            return GaussLegendre(steps);
        var weights = Enumerable.Repeat(1.0 / steps, steps).ToArray();
        double[] alphas = rule switch
        {
            IntegrationRule.RiemannLeft => Enumerable.Range(0, steps).Select(k => k / (double)steps).ToArray(),
            IntegrationRule.RiemannRight => Enumerable.Range(1, steps).Select(k => k / (double)steps).ToArray(),
            IntegrationRule.RiemannMiddle => Enumerable.Range(0, steps).Select(k => (k + 0.5) / steps).ToArray(),
            IntegrationRule.RiemannTrapezoid => Enumerable.Range(0, steps).Select(k => k / (double)(steps - 1)).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown integration rule."),
        };
        if (rule == IntegrationRule.RiemannTrapezoid)
        {
            weights[0] /= 2;
            weights[^1] /= 2;
        }
        return (alphas, weights);
    }

    /// <summary>Gauss–Legendre nodes and weights mapped from [−1, 1] to [0, 1] (Newton's method on Pₙ, double precision).</summary>
    private static (double[] Alphas, double[] Weights) GaussLegendre(int n)
    {
        var alphas = new double[n];
        var weights = new double[n];
        for (int i = 0; i < (n + 1) / 2; i++)
        {
            double x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            double derivative = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                (double p, derivative) = Legendre(n, x);
                double step = p / derivative;
                x -= step;
                if (Math.Abs(step) < 1e-15) break;
            }
            (_, derivative) = Legendre(n, x);
            double w = 2 / ((1 - x * x) * derivative * derivative);
            // Nodes come in ± pairs; store them ascending on [0, 1], weights halved with the interval.
            alphas[i] = (1 - x) / 2;
            alphas[n - 1 - i] = (1 + x) / 2;
            weights[i] = weights[n - 1 - i] = w / 2;
        }
        return (alphas, weights);
    }

    private static (double Value, double Derivative) Legendre(int n, double x)
    {
        double previous = 1, current = x;
        if (n == 0) return (1, 0);
        for (int k = 2; k <= n; k++)
        {
            double next = ((2 * k - 1) * x * current - (k - 1) * previous) / k;
            previous = current;
            current = next;
        }
        return (current, n * (x * current - previous) / (x * x - 1));
    }
}
