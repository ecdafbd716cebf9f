using Microsoft.ML.Masking.Core.Randomness;
namespace Microsoft.ML.Masking.Data;

/// <summary>
/// Renders the synthetic shapes data set. Each image holds one object whose shape is the class, drawn in a
/// random colour, size, position and rotation on a background of random colour, two random sine gratings and
/// pixel noise. A pixel belongs to the object when its centre lies inside the shape (no anti-aliasing), so
/// the object mask covers exactly the pixels painted with the object's colour. The object colour differs from
/// the background's base colour by at least <see cref="MinimumContrast"/> in some channel and the texture moves
/// the background by at most <see cref="MaximumTextureDeviation"/>, so every object pixel is visibly different
/// from the background under it.
/// </summary>
public sealed class ShapesGenerator
{
    /// <summary>Smallest largest-channel difference between the object colour and the background's base colour.</summary>
    public const float MinimumContrast = 0.4f;

    /// <summary>Largest change the texture (gratings plus noise) makes to the background's base colour in any channel.</summary>
    public const float MaximumTextureDeviation = GratingCount * MaximumGratingAmplitude + NoiseAmplitude;

    private const int GratingCount = 2;
    private const float MaximumGratingAmplitude = 0.12f;
    private const float NoiseAmplitude = 0.04f;

    private readonly ShapesOptions _options;
    private readonly ShapeKind[] _shapes;

    /// <summary>Creates a generator; the options are copied.</summary>
    public ShapesGenerator(ShapesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = new ShapesOptions
        {
            ImageSize = options.ImageSize, Count = options.Count, Seed = options.Seed, Shapes = options.Shapes.ToArray(),
            MinRadiusFraction = options.MinRadiusFraction, MaxRadiusFraction = options.MaxRadiusFraction,
            ImageColumnName = options.ImageColumnName, LabelColumnName = options.LabelColumnName,
            ObjectMaskColumnName = options.ObjectMaskColumnName,
        };
        _shapes = options.Shapes.ToArray();
    }

    /// <summary>The options in effect.</summary>
    public ShapesOptions Options => _options;

    /// <summary>The class names in label order.</summary>
    public IReadOnlyList<string> ClassNames => _shapes.Select(s => s.ToString()).ToArray();

    /// <summary>Renders image <paramref name="index"/>; the result depends only on the options and the index. Thread-safe.</summary>
    public ShapeSample Render(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        int size = _options.ImageSize;
        var random = SplitMix64.ForItem(_options.Seed, index);

        int label = random.NextInt(_shapes.Length);
        double radius = size / 2.0 * random.Uniform(_options.MinRadiusFraction, _options.MaxRadiusFraction);
        var center = (X: random.Uniform(radius, size - radius), Y: random.Uniform(radius, size - radius));
        double rotation = random.Uniform(0, 2 * Math.PI);

        var baseColor = new float[3];
        for (int c = 0; c < 3; c++)
            baseColor[c] = (float)random.Uniform(0.15, 0.85);
        var color = ContrastingColor(ref random, baseColor);
        var background = Background(ref random, baseColor, size);

        var image = (float[])background.Clone();
        var mask = new float[size * size];
        double cos = Math.Cos(rotation), sin = Math.Sin(rotation);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                double dx = x + 0.5 - center.X, dy = y + 0.5 - center.Y;
                double u = (cos * dx + sin * dy) / radius, v = (-sin * dx + cos * dy) / radius;
                if (!ShapeGeometry.Contains(_shapes[label], u, v))
                    continue;
                int p = y * size + x;
                mask[p] = 1;
                for (int c = 0; c < 3; c++)
                    image[c * size * size + p] = color[c];
            }
        }
        return new ShapeSample(_shapes[label], label, image, mask, background, center, radius, rotation, (color[0], color[1], color[2]));
    }

    private static float[] ContrastingColor(ref SplitMix64 random, float[] baseColor)
    {
        var color = new float[3];
        while (true)
        {
            float contrast = 0;
            for (int c = 0; c < 3; c++)
            {
                color[c] = (float)random.NextDouble();
                contrast = Math.Max(contrast, Math.Abs(color[c] - baseColor[c]));
            }
            if (contrast >= MinimumContrast)
                return color;
        }
    }

    private static float[] Background(ref SplitMix64 random, float[] baseColor, int size)
    {
        var gratings = new (double Frequency, double Cos, double Sin, double Phase, double[] Gain)[GratingCount];
        for (int k = 0; k < GratingCount; k++)
        {
            double frequency = 2 * Math.PI * random.Uniform(1.5, 6.0) / size;
            double angle = random.Uniform(0, Math.PI);
            double phase = random.Uniform(0, 2 * Math.PI);
            double amplitude = random.Uniform(0.25, 1.0) * MaximumGratingAmplitude;
            var gain = new double[3];
            for (int c = 0; c < 3; c++)
                gain[c] = amplitude * random.Uniform(-1, 1);
            gratings[k] = (frequency, Math.Cos(angle), Math.Sin(angle), phase, gain);
        }

        var background = new float[3 * size * size];
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    double value = baseColor[c] + random.Uniform(-NoiseAmplitude, NoiseAmplitude);
                    foreach (var g in gratings)
                        value += g.Gain[c] * Math.Sin(g.Frequency * (x * g.Cos + y * g.Sin) + g.Phase);
                    background[c * size * size + y * size + x] = (float)Math.Clamp(value, 0, 1);
                }
            }
        }
        return background;
    }
}
