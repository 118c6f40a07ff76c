public import HDAudio

/// How interleaved integer PCM samples sit in bytes: container size, valid bits,
/// channels, and whether 8-bit containers are unsigned (WAV) or signed (HD Audio).
///
/// Conversions go through one canonical value per sample: a 32-bit signed integer with
/// the sample left-justified and the bits below the valid bits zero. HD Audio memory
/// keeps 8-bit samples in 8-bit signed containers, 16-bit in 16, and 20, 24 and 32-bit
/// left-justified in 32-bit containers, little-endian; WAV keeps 8-bit samples unsigned
/// (offset 0x80, so the conversion flips the top bit) and 24-bit ones packed in 3 bytes.
/// A 24-bit WAV sample therefore becomes `sample << 8` in its 32-bit container.
public struct PCMLayout: Hashable, Sendable, CustomStringConvertible {
    /// Bytes of one sample container: 1, 2, 3 or 4.
    public var containerBytes: Int
    /// Signal bits of each sample, left-justified in the container (1 to containerBytes x 8).
    public var validBits: Int
    /// Channels per sample block.
    public var channels: Int
    /// True when 1-byte containers hold unsigned samples (WAV); false for signed (HD Audio).
    public var unsignedBytes: Bool

    /// A layout with every field given; nil unless the container is 1 to 4 bytes, the
    /// valid bits fit it (at least 1) and there is at least one channel.
    public init?(containerBytes: Int, validBits: Int, channels: Int, unsignedBytes: Bool) {
        guard (1...4).contains(containerBytes), (1...containerBytes * 8).contains(validBits), channels >= 1 else { return nil }
        self.init(unchecked: containerBytes, validBits: validBits, channels: channels, unsignedBytes: unsignedBytes)
    }

    /// A layout from fields already checked by the caller.
    init(unchecked containerBytes: Int, validBits: Int, channels: Int, unsignedBytes: Bool) {
        self.containerBytes = containerBytes
        self.validBits = validBits
        self.channels = channels
        self.unsignedBytes = unsignedBytes
    }

    /// The HD Audio memory layout of a stream format (signed, its own container size);
    /// nil for an invalid format.
    public static func memory(_ format: StreamFormat) -> PCMLayout? {
        format.isValid ? PCMLayout(memoryOf: format) : nil
    }

    /// The layout of a WAV file's data (8-bit unsigned); nil for a format Azalia does not read.
    public static func wav(_ format: WAVFormat) -> PCMLayout? {
        (try? format.validate()) != nil ? PCMLayout(wavOf: format) : nil
    }

    /// The memory layout of a format the caller has validated.
    init(memoryOf format: StreamFormat) {
        self.init(unchecked: format.containerBytes, validBits: Int(format.validBitsPerSample),
                  channels: Int(format.numberOfChannels), unsignedBytes: false)
    }

    /// The WAV layout of a format the caller has validated.
    init(wavOf format: WAVFormat) {
        self.init(unchecked: format.bytesPerSample, validBits: Int(format.validBitsPerSample),
                  channels: Int(format.channels), unsignedBytes: true)
    }

    /// Bytes of one sample block.
    public var blockBytes: Int { containerBytes * channels }

    /// True when a sample has the same bytes in both layouts: the same container, valid
    /// bits and channels, and the same signedness where it matters (1-byte containers). A
    /// 16-bit WAV file and 16-bit HD Audio memory are the same bytes, so converting between
    /// them is a copy.
    public func sameBytes(as other: PCMLayout) -> Bool {
        containerBytes == other.containerBytes && validBits == other.validBits && channels == other.channels
            && (containerBytes != 1 || unsignedBytes == other.unsignedBytes)
    }

    /// The mask of the valid bits in a canonical (left-justified 32-bit) value.
    @inlinable public var canonicalMask: UInt32 { UInt32.max << UInt32(32 - validBits) }

    /// `24/32 x2 signed`.
    public var description: String {
        "\(validBits)/\(containerBytes * 8) x\(channels) \(unsignedBytes && containerBytes == 1 ? "unsigned" : "signed")"
    }

    /// Reads the sample at `p` as a canonical value (left-justified, masked to the valid bits).
    @inlinable public func load(_ p: UnsafeRawPointer) -> UInt32 {
        var v: UInt32
        switch containerBytes {
        case 1:
            let b = p.load(as: UInt8.self)
            v = UInt32(unsignedBytes ? b ^ 0x80 : b) << 24
        case 2:
            v = UInt32(p.load(as: UInt8.self)) << 16 | UInt32(p.load(fromByteOffset: 1, as: UInt8.self)) << 24
        case 3:
            v = UInt32(p.load(as: UInt8.self)) << 8 | UInt32(p.load(fromByteOffset: 1, as: UInt8.self)) << 16
                | UInt32(p.load(fromByteOffset: 2, as: UInt8.self)) << 24
        default:
            v = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))
        }
        return v & canonicalMask
    }

    /// Writes a canonical value at `p`, keeping only this layout's valid bits.
    @inlinable public func store(_ canonical: UInt32, _ p: UnsafeMutableRawPointer) {
        let v = canonical & canonicalMask
        switch containerBytes {
        case 1:
            let b = UInt8(truncatingIfNeeded: v >> 24)
            p.storeBytes(of: unsignedBytes ? b ^ 0x80 : b, as: UInt8.self)
        case 2:
            p.storeBytes(of: UInt8(truncatingIfNeeded: v >> 16), as: UInt8.self)
            p.storeBytes(of: UInt8(truncatingIfNeeded: v >> 24), toByteOffset: 1, as: UInt8.self)
        case 3:
            p.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), as: UInt8.self)
            p.storeBytes(of: UInt8(truncatingIfNeeded: v >> 16), toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt8(truncatingIfNeeded: v >> 24), toByteOffset: 2, as: UInt8.self)
        default:
            p.storeBytes(of: v.littleEndian, as: UInt32.self)
        }
    }

    /// Fills `blocks` blocks at `dst` with silence in this layout (0, or 0x80 for unsigned
    /// bytes), no more than `dst` holds.
    public func fillSilence(_ dst: UnsafeMutableRawBufferPointer, blocks: Int) {
        let bytes = min(max(blocks, 0) * blockBytes, dst.count / blockBytes * blockBytes)
        guard bytes > 0, let base = dst.baseAddress else { return }
        base.initializeMemory(as: UInt8.self, repeating: unsignedBytes && containerBytes == 1 ? 0x80 : 0, count: bytes)
    }

    /// Converts `blocks` sample blocks from `src` (in layout `from`) into `dst` (in layout
    /// `to`). Samples keep their left-justified value; bits below the destination's valid
    /// bits are dropped. Destination channels that the source lacks are silent; source
    /// channels beyond the destination's are dropped. Converts no more blocks than both
    /// buffers hold, and returns how many it converted.
    @discardableResult
    public static func convert(_ src: UnsafeRawBufferPointer, from: PCMLayout,
                               into dst: UnsafeMutableRawBufferPointer, to: PCMLayout, blocks wanted: Int) -> Int {
        let blocks = min(max(wanted, 0), src.count / from.blockBytes, dst.count / to.blockBytes)
        guard blocks > 0, let s = src.baseAddress, let d = dst.baseAddress else { return 0 }
        if from.sameBytes(as: to) {
            let count = blocks * from.blockBytes
            if from.validBits == from.containerBytes * 8 {
                if s != UnsafeRawPointer(d) { d.copyMemory(from: s, byteCount: count) }
                return blocks
            }
            // Same layout, fewer valid bits: clear the bits below them, word by word.
            switch from.containerBytes {
            case 4:
                let mask = from.canonicalMask
                for i in stride(from: 0, to: count, by: 4) {
                    let v = UInt32(littleEndian: s.loadUnaligned(fromByteOffset: i, as: UInt32.self)) & mask
                    d.storeBytes(of: v.littleEndian, toByteOffset: i, as: UInt32.self)
                }
                return blocks
            case 2:
                let mask = UInt16(truncatingIfNeeded: from.canonicalMask >> 16)
                for i in stride(from: 0, to: count, by: 2) {
                    let v = UInt16(littleEndian: s.loadUnaligned(fromByteOffset: i, as: UInt16.self)) & mask
                    d.storeBytes(of: v.littleEndian, toByteOffset: i, as: UInt16.self)
                }
                return blocks
            default:
                break
            }
        }
        let shared = min(from.channels, to.channels)
        let sb = from.containerBytes, db = to.containerBytes
        for block in 0..<blocks {
            let sp = s + block * from.blockBytes
            let dp = d + block * to.blockBytes
            for c in 0..<shared { to.store(from.load(sp + c * sb), dp + c * db) }
            for c in shared..<to.channels { to.store(0, dp + c * db) }
        }
        return blocks
    }

    /// Converts whole byte arrays; the result has as many blocks as `src` holds whole blocks.
    public static func convert(_ src: [UInt8], from: PCMLayout, to: PCMLayout) -> [UInt8] {
        let blocks = src.count / from.blockBytes
        var out = [UInt8](repeating: 0, count: blocks * to.blockBytes)
        src.withUnsafeBytes { s in out.withUnsafeMutableBytes { d in _ = convert(s, from: from, into: d, to: to, blocks: blocks) } }
        return out
    }
}

/// Conversions between WAV data and HD Audio memory data of a stream format.
public enum SampleConversion {
    private static func layouts(_ wav: WAVFormat, _ stream: StreamFormat) throws(WAVError) -> (PCMLayout, PCMLayout) {
        try wav.validate()
        guard stream.isValid else { throw .invalidStreamFormat(stream.problem ?? "\(stream)") }
        return (PCMLayout(wavOf: wav), PCMLayout(memoryOf: stream))
    }

    /// WAV data (any supported layout) to the memory layout of `stream`: bit-exact for
    /// the WAV layout of the same stream (`WAVFormat(stream)`). Whole blocks only.
    public static func memoryBytes(fromWAV data: [UInt8], format: WAVFormat, stream: StreamFormat) throws(WAVError) -> [UInt8] {
        let (wav, memory) = try layouts(format, stream)
        return PCMLayout.convert(data, from: wav, to: memory)
    }

    /// Memory data of `stream` to WAV data of `format` (by default `WAVFormat(stream)`).
    /// Bits below the stream's valid bits are not carried.
    public static func wavBytes(fromMemory data: [UInt8], stream: StreamFormat, format: WAVFormat? = nil) throws(WAVError) -> [UInt8] {
        let (wav, memory) = try layouts(format ?? WAVFormat(stream), stream)
        return PCMLayout.convert(data, from: memory, to: wav)
    }

    /// A memory buffer of `stream` with the bits below the valid bits cleared, as the link carries it.
    public static func linkMasked(_ data: [UInt8], stream: StreamFormat) throws(WAVError) -> [UInt8] {
        guard stream.isValid else { throw .invalidStreamFormat(stream.problem ?? "\(stream)") }
        let memory = PCMLayout(memoryOf: stream)
        return PCMLayout.convert(data, from: memory, to: memory)
    }
}
