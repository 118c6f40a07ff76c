public import HDAudio
import Foundation

/// The PCM layout of a WAV file: rate, channels, container bits and valid bits.
///
/// Containers are 8 (unsigned), 16, 24 (packed in 3 bytes) or 32-bit (signed,
/// little-endian) integers; 1 to 16 channels; any non-zero rate.
public struct WAVFormat: Hashable, Sendable, CustomStringConvertible {
    /// Sample blocks per second.
    public var sampleRate: UInt32
    /// Channels per sample block, 1 to 16.
    public var channels: UInt16
    /// Bits each sample occupies in the file: 8, 16, 24 or 32.
    public var bitsPerSample: UInt16
    /// Bits of each sample that carry signal (left-justified), 1 to `bitsPerSample`.
    public var validBitsPerSample: UInt16

    /// The container sizes Azalia reads and writes.
    public static let supportedBits: [UInt16] = [8, 16, 24, 32]
    /// The channel counts Azalia reads and writes.
    public static let supportedChannels: ClosedRange<UInt16> = 1...16

    /// A format whose valid bits fill the container unless given.
    public init(sampleRate: UInt32, channels: UInt16, bitsPerSample: UInt16, validBitsPerSample: UInt16? = nil) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitsPerSample = bitsPerSample
        self.validBitsPerSample = validBitsPerSample ?? bitsPerSample
    }

    /// The WAV layout that holds a stream format bit for bit: 8 -> 8, 16 -> 16,
    /// 20 and 24 -> 24, 32 -> 32 (the memory container does not matter).
    ///
    /// **Decision**: a 20-bit stream is written as plain 24-bit samples (its top 20 bits,
    /// the low 4 bits zero) with valid bits 24, not as "20 valid in 24": common tools
    /// (sox among them) refuse WAV files whose valid bits are fewer than the container.
    /// The reader still takes such files.
    public init(_ stream: StreamFormat) {
        let bits = stream.validBitsPerSample
        let container: UInt16 = bits <= 8 ? 8 : bits <= 16 ? 16 : bits <= 24 ? 24 : 32
        self.init(sampleRate: stream.sampleRate, channels: stream.numberOfChannels, bitsPerSample: container)
    }

    /// Bytes of one sample in the file.
    public var bytesPerSample: Int { Int(bitsPerSample) / 8 }
    /// Bytes of one sample block (nBlockAlign).
    public var blockAlign: Int { Int(channels) * bytesPerSample }
    /// Bytes per second (nAvgBytesPerSec).
    public var byteRate: UInt64 { UInt64(sampleRate) * UInt64(blockAlign) }

    /// True when the file must use WAVE_FORMAT_EXTENSIBLE: more than 2 channels, more
    /// than 16 bits, or valid bits that do not fill the container.
    public var needsExtensible: Bool {
        channels > 2 || bitsPerSample > 16 || validBitsPerSample != bitsPerSample
    }

    /// The HD Audio stream format that carries this layout: valid bits rounded up to a
    /// legal sample size (8, 16, 20, 24, 32), in the smallest container for it. Nil when
    /// the rate cannot travel on the link.
    public var streamFormat: StreamFormat? {
        let bits = StreamFormat.legalSampleBits.first { $0 >= validBitsPerSample } ?? 32
        let format = StreamFormat(rate: sampleRate, bits: bits, channels: channels)
        return format.isValid ? format : nil
    }

    /// `48000 Hz, 24-bit, 2 ch` (with `20 valid` when the valid bits are fewer).
    public var description: String {
        let valid = validBitsPerSample == bitsPerSample ? "" : " (\(validBitsPerSample) valid)"
        return "\(sampleRate) Hz, \(bitsPerSample)-bit\(valid), \(channels) ch"
    }

    /// Checks the layout against what Azalia reads and writes.
    public func validate() throws(WAVError) {
        guard sampleRate > 0 else { throw .invalidSampleRate }
        guard WAVFormat.supportedChannels.contains(channels) else { throw .unsupportedChannelCount(channels) }
        guard WAVFormat.supportedBits.contains(bitsPerSample) else { throw .unsupportedBitsPerSample(bitsPerSample) }
        guard validBitsPerSample >= 1, validBitsPerSample <= bitsPerSample else {
            throw .invalidValidBits(validBitsPerSample, container: bitsPerSample)
        }
        // nAvgBytesPerSec is a 32-bit field: a rate x block size above it cannot be written.
        guard byteRate <= UInt64(UInt32.max) else { throw .tooLarge }
    }
}

/// Why a WAV file cannot be read or written.
public enum WAVError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file ends before a header, a chunk or the data it announces.
    case truncated(String)
    /// The file does not start with `RIFF`.
    case notRIFF
    /// The RIFF form type is not `WAVE`.
    case notWAVE
    /// No `fmt ` chunk before the end of the file.
    case missingFormatChunk
    /// No `data` chunk before the end of the file.
    case missingDataChunk
    /// The `fmt ` chunk is shorter than its format tag needs.
    case formatChunkTooSmall(Int)
    /// A format tag other than WAVE_FORMAT_PCM (1) or WAVE_FORMAT_EXTENSIBLE (0xFFFE), such as IEEE float (3).
    case unsupportedFormatTag(UInt16)
    /// A WAVE_FORMAT_EXTENSIBLE sub-format other than KSDATAFORMAT_SUBTYPE_PCM.
    case unsupportedSubFormat
    /// A container size other than 8, 16, 24 or 32 bits.
    case unsupportedBitsPerSample(UInt16)
    /// A channel count outside 1 to 16.
    case unsupportedChannelCount(UInt16)
    /// A sample rate of 0.
    case invalidSampleRate
    /// Valid bits of 0 or above the container size.
    case invalidValidBits(UInt16, container: UInt16)
    /// nBlockAlign is not channels x container bytes.
    case badBlockAlign(found: UInt16, expected: Int)
    /// nAvgBytesPerSec is not rate x nBlockAlign.
    case badByteRate(found: UInt32, expected: UInt64)
    /// The data chunk's size is not a whole number of sample blocks.
    case partialBlock(dataBytes: Int, blockAlign: Int)
    /// The data is too large for a RIFF file (4 GiB).
    case tooLarge
    /// Sample data whose length does not match the format given to the writer.
    case dataLengthMismatch
    /// The file could not be opened, read or written.
    case io(String)
    /// A stream format that is not valid (see `StreamFormat.problem`).
    case invalidStreamFormat(String)

    /// The reason in words.
    public var description: String {
        switch self {
        case .truncated(let what): "truncated WAV file: \(what)"
        case .notRIFF: "not a RIFF file (no RIFF header)"
        case .notWAVE: "RIFF file is not of form WAVE"
        case .missingFormatChunk: "no fmt chunk"
        case .missingDataChunk: "no data chunk"
        case .formatChunkTooSmall(let n): "fmt chunk of \(n) bytes is too small"
        case .unsupportedFormatTag(let tag):
            "unsupported format tag \(tag.hexLiteral(digits: 1))\(tag == 3 ? " (IEEE float)" : ""): only integer PCM is supported"
        case .unsupportedSubFormat: "WAVE_FORMAT_EXTENSIBLE sub-format is not integer PCM"
        case .unsupportedBitsPerSample(let b): "unsupported sample size \(b) bits: 8, 16, 24 or 32 only"
        case .unsupportedChannelCount(let c): "unsupported channel count \(c): 1 to 16 only"
        case .invalidSampleRate: "sample rate is 0"
        case .invalidValidBits(let v, let c): "\(v) valid bits in a \(c)-bit container"
        case .badBlockAlign(let found, let expected): "block align \(found), expected \(expected)"
        case .badByteRate(let found, let expected): "byte rate \(found), expected \(expected)"
        case .partialBlock(let n, let align): "data chunk of \(n) bytes is not a whole number of \(align)-byte blocks"
        case .tooLarge: "data too large for a RIFF file"
        case .dataLengthMismatch: "sample data is not a whole number of blocks of the format"
        case .io(let what): "I/O error: \(what)"
        case .invalidStreamFormat(let why): "invalid stream format: \(why)"
        }
    }
}

/// A PCM WAV file in memory: its format and its sample data in WAV layout.
public struct WAVFile: Hashable, Sendable {
    /// The layout of `data`.
    public var format: WAVFormat
    /// The sample data, interleaved, in WAV layout (8-bit unsigned, wider signed, little-endian).
    public var data: [UInt8]

    /// WAVE_FORMAT_PCM.
    public static let formatTagPCM: UInt16 = 0x0001
    /// WAVE_FORMAT_IEEE_FLOAT (recognised only to be refused clearly).
    public static let formatTagFloat: UInt16 = 0x0003
    /// WAVE_FORMAT_EXTENSIBLE.
    public static let formatTagExtensible: UInt16 = 0xFFFE
    /// The 14 bytes that follow the 16-bit format code in KSDATAFORMAT_SUBTYPE_* GUIDs.
    static let subFormatTail: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
                                         0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]

    /// A file with a format and data (checked when written).
    public init(format: WAVFormat, data: [UInt8]) {
        self.format = format
        self.data = data
    }

    /// Number of whole sample blocks in `data`.
    public var blockCount: Int { format.blockAlign == 0 ? 0 : data.count / format.blockAlign }

    /// Parses a WAV file from its bytes. Every malformation is a thrown `WAVError`.
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(WAVError) -> WAVFile {
        let buf = Array(bytes)
        var result: Result<WAVFile, WAVError> = .failure(.missingDataChunk)
        buf.withUnsafeBytes { raw in result = Result { () throws(WAVError) in try parse(raw) } }
        return try result.get()
    }

    /// Parses a WAV file from raw bytes (the header as `WAVReader` reads it, then the data).
    public static func parse(_ raw: UnsafeRawBufferPointer) throws(WAVError) -> WAVFile {
        let header = try WAVHeader.locate(size: raw.count) { offset, count in
            Array(raw[offset..<min(raw.count, offset + count)])
        }
        return WAVFile(format: header.format, data: Array(raw[header.dataOffset..<(header.dataOffset + header.dataBytes)]))
    }

    /// The 44-byte (PCM) or 68-byte (EXTENSIBLE) header for `dataBytes` bytes of `format`.
    /// EXTENSIBLE is used when the format needs it (more than 2 channels, more than 16 bits).
    public static func header(for format: WAVFormat, dataBytes: Int) throws(WAVError) -> [UInt8] {
        try format.validate()
        let extensible = format.needsExtensible
        let fmtSize = extensible ? 40 : 16
        let total = 4 + (8 + fmtSize) + 8 + dataBytes + (dataBytes & 1)
        guard dataBytes >= 0, total <= Int(UInt32.max) else { throw .tooLarge }
        var h: [UInt8] = []
        h.reserveCapacity(12 + 8 + fmtSize + 8)
        func put16(_ v: UInt16) { h.append(UInt8(v & 0xFF)); h.append(UInt8(v >> 8)) }
        func put32(_ v: UInt32) { put16(UInt16(v & 0xFFFF)); put16(UInt16(v >> 16)) }
        func putTag(_ s: String) { h.append(contentsOf: Array(s.utf8)) }
        putTag("RIFF"); put32(UInt32(total)); putTag("WAVE")
        putTag("fmt "); put32(UInt32(fmtSize))
        put16(extensible ? formatTagExtensible : formatTagPCM)
        put16(format.channels)
        put32(format.sampleRate)
        put32(UInt32(truncatingIfNeeded: format.byteRate))
        put16(UInt16(format.blockAlign))
        put16(format.bitsPerSample)
        if extensible {
            put16(22)
            put16(format.validBitsPerSample)
            // One speaker position per channel, in order (bits 0 ... n-1 are defined for n <= 18).
            put32(UInt32((1 << Int(format.channels)) - 1))
            put16(formatTagPCM)
            h.append(contentsOf: subFormatTail)
        }
        putTag("data"); put32(UInt32(dataBytes))
        return h
    }

    /// The file's bytes: header, data, and a pad byte when the data length is odd.
    public func serialized() throws(WAVError) -> [UInt8] {
        guard format.blockAlign > 0, data.count % format.blockAlign == 0 else { throw .dataLengthMismatch }
        var out = try WAVFile.header(for: format, dataBytes: data.count)
        out.append(contentsOf: data)
        if data.count & 1 == 1 { out.append(0) }
        return out
    }

    /// Bytes from a file as text safe for a terminal: printable ASCII as is, backslash as
    /// `\\`, every other byte (control characters, escape sequences, non-ASCII) as `\xNN`.
    static func printable<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out = ""
        for b in bytes {
            if b == UInt8(ascii: "\\") { out += "\\\\" }
            else if (0x20...0x7E).contains(b) { out.unicodeScalars.append(Unicode.Scalar(b)) }
            else { out += "\\x" + b.hexLiteral(digits: 2).dropFirst(2) }
        }
        return out
    }

    /// What an I/O error means, in words: the POSIX reason when Foundation wraps one
    /// (Foundation's own text for those is "The operation could not be completed" or a bare
    /// "NSCocoaErrorDomain error 512").
    static func reason(_ error: any Error, path: String) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let text = strerror(Int32(underlying.code)) {
            return String(cString: text).lowercased()
        }
        if ns.domain == NSPOSIXErrorDomain, let text = strerror(Int32(ns.code)) { return String(cString: text).lowercased() }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) { return "its directory \(parent) does not exist" }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return "is a directory" }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        default: break
        }
        if ns.domain == NSCocoaErrorDomain { return "the file system refused (Foundation error \(ns.code))" }
        return ns.localizedDescription
    }

    /// Reads and parses the WAV file at `path` (a symbolic link is followed): the header
    /// through a `WAVReader` (a path that is not a regular file, or a file larger than any
    /// RIFF file, is refused without being read), then the data, once.
    public static func read(path: String) throws(WAVError) -> WAVFile {
        let reader = try WAVReader(path: path)
        return WAVFile(format: reader.format, data: try reader.readAll())
    }

    /// Writes the file to `path`, replacing what is there.
    public func write(path: String) throws(WAVError) {
        let bytes = try serialized()
        do { try Data(bytes).write(to: URL(fileURLWithPath: path)) } catch {
            throw .io("cannot write \(path): \(WAVFile.reason(error, path: path))")
        }
    }
}
