using System.Buffers.Binary;
using System.IO.Compression;

namespace Microsoft.ML.Masking.Data;

/// <summary>
/// Reads the IDX format of LeCun's MNIST files (and Fashion-MNIST): two zero bytes, an element-type code,
/// the number of dimensions, each dimension as a big-endian int32, then the elements big-endian.
/// Gzip-compressed files are recognised by their magic number, whatever their name.
/// </summary>
internal static class IdxFile
{
    private const int MaxDimensions = 8;

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX file; the message says why.</exception>
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        using var file = File.OpenRead(path);
        using var stream = IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        using var buffered = new BufferedStream(stream, 1 << 16);
        return Read(buffered, path);
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static IdxArray Read(Stream stream, string path)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header, path, "the 4-byte header");
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException($"'{path}' is not an IDX file: it must start with two zero bytes.");
        var type = (IdxElementType)header[2];
        int elementSize = ElementSize(type, path);
        int rank = header[3];
        if (rank is < 1 or > MaxDimensions)
            throw new InvalidDataException($"'{path}' declares {rank} dimensions; IDX files here have 1 to {MaxDimensions}.");

        var dimensions = new int[rank];
        long count = 1;
        Span<byte> word = stackalloc byte[4];
        for (int d = 0; d < rank; d++)
        {
            ReadExactly(stream, word, path, $"dimension {d}");
            dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dimensions[d] < 0)
                throw new InvalidDataException($"'{path}' declares a negative size for dimension {d}.");
            count *= dimensions[d];
        }
        if (count > Array.MaxLength)
            throw new InvalidDataException($"'{path}' declares {count} elements, more than one array can hold.");

        var raw = new byte[count * elementSize];
        ReadExactly(stream, raw, path, $"{count} elements of {elementSize} byte(s)");
        if (stream.ReadByte() != -1)
            throw new InvalidDataException($"'{path}' has data after its {count} declared elements; the header and the data disagree.");
        return new IdxArray(path, dimensions, Decode(raw, type, (int)count));
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
            throw new InvalidDataException($"'{path}' ends before {what}; the file is truncated.");
    }

    private static int ElementSize(IdxElementType type, string path) => type switch
    {
        IdxElementType.UnsignedByte or IdxElementType.SignedByte => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Single => 4,
        IdxElementType.Double => 8,
        _ => throw new InvalidDataException($"'{path}' has element type code 0x{(byte)type:x2}, which is not an IDX type."),
    };

    private static float[] Decode(byte[] raw, IdxElementType type, int count)
    {
        var values = new float[count];
        switch (type)
        {
            case IdxElementType.UnsignedByte:
                for (int i = 0; i < count; i++) values[i] = raw[i];
                break;
            case IdxElementType.SignedByte:
                for (int i = 0; i < count; i++) values[i] = (sbyte)raw[i];
                break;
            case IdxElementType.Int16:
                for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadInt16BigEndian(raw.AsSpan(2 * i));
                break;
            case IdxElementType.Int32:
                for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 * i));
                break;
            case IdxElementType.Single:
                for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleBigEndian(raw.AsSpan(4 * i));
                break;
            case IdxElementType.Double:
                for (int i = 0; i < count; i++) values[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(raw.AsSpan(8 * i));
                break;
        }
        return values;
    }
}
