namespace Microsoft.ML.Masking.Data;

/// <summary>The element-type codes of the IDX format (third byte of the header).</summary>
internal enum IdxElementType : byte
{
    UnsignedByte = 0x08,
    SignedByte = 0x09,
    Int16 = 0x0B,
    Int32 = 0x0C,
    Single = 0x0D,
    Double = 0x0E,
}
