using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>Accumulates <see cref="MaskDiagnostics"/> batch by batch, in double precision on the CPU.</summary>
internal sealed class MaskDiagnosticsAccumulator
{
    private readonly long[] _removedCount;
    private readonly int _patchSize;
    private readonly int _columns;
    private int _images;
    private int _removedPerImage;
    private double _adversarialErrorSum, _randomErrorSum, _removedErrorSum;
    private long _adversarialPatches, _randomPatches, _removedPatches;
    private double _objectShareSum, _objectAdversarialShareSum;
    private int _imagesWithObjects;
    private double _share;

    public MaskDiagnosticsAccumulator(MaskedAutoencoderArchitecture architecture)
    {
        _removedCount = new long[architecture.PatchCount];
        _patchSize = architecture.PatchSize;
        _columns = architecture.PatchColumns;
    }

    /// <summary>Adds a batch: its masks, per-patch errors [N, L] and optional object masks [N, H·W] (1 on the object).</summary>
    public void Add(TokenMask mask, Tensor patchErrors, Tensor? objectMasks, double share)
    {
        _share = share;
        int n = (int)mask.Removed.shape[0], patches = _removedCount.Length;
        var removed = Floats(mask.Removed);
        var adversarial = Floats(mask.Adversarial);
        var errors = Floats(patchErrors);
        float[]? objects = objectMasks is null ? null : Floats(objectMasks);
        int pixels = objects is null ? 0 : objects.Length / n;
        int width = _columns * _patchSize;
        for (int i = 0; i < n; i++)
        {
            int removedHere = 0;
            double objectPixels = 0, objectRemoved = 0, objectAdversarial = 0;
            for (int j = 0; j < patches; j++)
            {
                int k = i * patches + j;
                bool isRemoved = removed[k] > 0.5f, isAdversarial = adversarial[k] > 0.5f;
                if (isRemoved)
                {
                    removedHere++;
                    _removedCount[j]++;
                    _removedErrorSum += errors[k];
                    _removedPatches++;
                    if (isAdversarial) { _adversarialErrorSum += errors[k]; _adversarialPatches++; }
                    else { _randomErrorSum += errors[k]; _randomPatches++; }
                }
                if (objects is not null)
                {
                    double inPatch = ObjectPixelsInPatch(objects, i * pixels, width, j);
                    objectPixels += inPatch;
                    if (isRemoved) objectRemoved += inPatch;
                    if (isAdversarial) objectAdversarial += inPatch;
                }
            }
            _removedPerImage = removedHere;
            if (objects is not null && objectPixels > 0)
            {
                _imagesWithObjects++;
                _objectShareSum += objectRemoved / objectPixels;
                _objectAdversarialShareSum += objectAdversarial / objectPixels;
            }
        }
        _images += n;
    }

    /// <summary>The diagnostics of everything added.</summary>
    public MaskDiagnostics Result()
    {
        if (_images == 0)
            throw new InvalidOperationException("No images were measured.");
        double total = _removedCount.Sum();
        double entropy = 0;
        foreach (long c in _removedCount)
            if (c > 0) entropy -= c / total * Math.Log(c / total);
        double pairs = (double)_images * (_images - 1);
        double sharedPairs = _removedCount.Sum(c => (double)c * (c - 1));
        return new MaskDiagnostics
        {
            Images = _images,
            Patches = _removedCount.Length,
            RemovedPerImage = _removedPerImage,
            PositionEntropy = entropy / Math.Log(_removedCount.Length),
            PairwiseOverlap = pairs > 0 ? sharedPairs / (pairs * _removedPerImage) : double.NaN,
            HardnessGap = _adversarialPatches > 0 && _randomPatches > 0
                ? _adversarialErrorSum / _adversarialPatches - _randomErrorSum / _randomPatches : null,
            ReconstructionError = _removedErrorSum / _removedPatches,
            ObjectShareMasked = _imagesWithObjects > 0 ? _objectShareSum / _imagesWithObjects : null,
            ObjectShareAdversarial = _imagesWithObjects > 0 && _adversarialPatches > 0 ? _objectAdversarialShareSum / _imagesWithObjects : null,
            AdversarialShare = _share,
        };
    }

    private double ObjectPixelsInPatch(float[] objects, int offset, int width, int patch)
    {
        int top = patch / _columns * _patchSize, left = patch % _columns * _patchSize;
        double sum = 0;
        for (int y = top; y < top + _patchSize; y++)
            for (int x = left; x < left + _patchSize; x++)
                sum += objects[offset + y * width + x];
        return sum;
    }

    private static float[] Floats(Tensor t)
    {
        using var cpu = t.detach().to(ScalarType.Float32, CPU).contiguous();
        return MemoryMarshal.Cast<byte, float>(cpu.bytes).ToArray();
    }
}
