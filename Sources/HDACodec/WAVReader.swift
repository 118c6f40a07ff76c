import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a reader needs of a WAV file before it streams the samples: the format and where
/// the data chunk lies. Found by reading the RIFF header and the chunk headers only.
public struct WAVHeader: Hashable, Sendable {
    /// The layout of the samples.
    public var format: WAVFormat
    /// The data chunk's first byte in the file.
    public var dataOffset: Int
    /// The data chunk's size (a UInt32 in the file: at most 4 GiB - 1).
    public var dataBytes: Int

    /// Whole sample blocks in the data chunk.
    public var blockCount: Int { dataBytes / format.blockAlign }

    /// Parses the header of a file of `size` bytes whose bytes `read(offset, count)` returns
    /// (never more than asked; the parser asks only for bytes inside `size`). Every
    /// malformation is a thrown `WAVError`; the file is never read beyond its chunk headers
    /// and the `fmt ` chunk's first 40 bytes.
    static func locate(size n: Int, read: (Int, Int) throws(WAVError) -> [UInt8]) throws(WAVError) -> WAVHeader {
        func bytes(_ o: Int, _ count: Int) throws(WAVError) -> [UInt8] {
            let b = try read(o, count)
            guard b.count == count else { throw .truncated("the file ends at byte \(o + b.count), \(o + count) expected") }
            return b
        }
        func u16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
        func u32(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(u16(b, o)) | UInt32(u16(b, o + 2)) << 16 }
        func tag(_ b: [UInt8], _ o: Int) -> String { String(decoding: b[o..<o + 4], as: UTF8.self) }

        guard n >= 4 else { throw .truncated("\(n) bytes, shorter than a RIFF header") }
        let riff = try bytes(0, min(n, 12))
        guard tag(riff, 0) == "RIFF" else { throw .notRIFF }
        guard n >= 12 else { throw .truncated("\(n) bytes, shorter than a RIFF header") }
        guard tag(riff, 8) == "WAVE" else { throw .notWAVE }
        // 64-bit arithmetic: the RIFF size is a UInt32, so the end is at most 4 GiB + 7.
        let riffEnd = 8 + Int(u32(riff, 4))
        guard riffEnd <= n else { throw .truncated("RIFF announces \(riffEnd) bytes, file has \(n)") }

        var fmtRange: Range<Int>?
        var dataRange: Range<Int>?
        var offset = 12
        while offset < riffEnd, fmtRange == nil || dataRange == nil {
            guard offset + 8 <= riffEnd else { throw .truncated("chunk header at byte \(offset) is cut short") }
            let header = try bytes(offset, 8)
            let id = tag(header, 0)
            let size = Int(u32(header, 4))
            let body = offset + 8
            guard size <= riffEnd - body else {
                throw .truncated("chunk '\(WAVFile.printable(header[0..<4]))' at byte \(offset) announces \(size) bytes, \(riffEnd - body) remain")
            }
            if id == "fmt ", fmtRange == nil { fmtRange = body..<body + size }
            if id == "data", dataRange == nil { dataRange = body..<body + size }
            offset = body + size + (size & 1)
        }
        guard let fmt = fmtRange else { throw .missingFormatChunk }
        guard let data = dataRange else { throw .missingDataChunk }
        guard fmt.count >= 16 else { throw .formatChunkTooSmall(fmt.count) }
        let f = try bytes(fmt.lowerBound, min(fmt.count, 40))
        let formatTag = u16(f, 0)
        let channels = u16(f, 2)
        let rate = u32(f, 4)
        let byteRate = u32(f, 8)
        let blockAlign = u16(f, 12)
        let bits = u16(f, 14)
        var validBits = bits
        switch formatTag {
        case WAVFile.formatTagPCM:
            break
        case WAVFile.formatTagExtensible:
            guard fmt.count >= 40, u16(f, 16) >= 22 else { throw .formatChunkTooSmall(fmt.count) }
            let v = u16(f, 18)
            validBits = v == 0 ? bits : v
            guard u16(f, 24) == WAVFile.formatTagPCM, Array(f[26..<40]) == WAVFile.subFormatTail else { throw .unsupportedSubFormat }
        default:
            throw .unsupportedFormatTag(formatTag)
        }
        let format = WAVFormat(sampleRate: rate, channels: channels, bitsPerSample: bits, validBitsPerSample: validBits)
        try format.validate()
        guard Int(blockAlign) == format.blockAlign else { throw .badBlockAlign(found: blockAlign, expected: format.blockAlign) }
        guard UInt64(byteRate) == format.byteRate else { throw .badByteRate(found: byteRate, expected: format.byteRate) }
        guard data.count % format.blockAlign == 0 else {
            throw .partialBlock(dataBytes: data.count, blockAlign: format.blockAlign)
        }
        return WAVHeader(format: format, dataOffset: data.lowerBound, dataBytes: data.count)
    }
}

/// Reads a WAV file's samples block by block: the header first (chunk headers only), then
/// the data chunk in whatever pieces the caller asks for, from a file descriptor (`pread`,
/// so no more of the file is in memory than the caller's buffer) or from a `WAVFile` in memory.
///
/// Memory does not grow with the file: a 4 GiB file (the most a RIFF size can say) reads
/// in the same memory as a short one.
public final class WAVReader {
    /// Where the bytes come from.
    private enum Storage {
        case file(FileDescriptor)
        case memory([UInt8])
    }

    /// An open file, closed when the last reader of it goes.
    private final class FileDescriptor {
        let fd: Int32
        let path: String
        init(fd: Int32, path: String) { self.fd = fd; self.path = path }
        deinit { close(fd) }
    }

    private let storage: Storage
    /// The format and where the data lies.
    public let header: WAVHeader
    /// Blocks read so far (the next block to read).
    public private(set) var position = 0

    /// The layout of the samples.
    public var format: WAVFormat { header.format }
    /// Whole blocks in the data chunk.
    public var blockCount: Int { header.blockCount }

    private init(storage: Storage, header: WAVHeader) {
        self.storage = storage
        self.header = header
    }

    /// Opens the WAV file at `path` (a symbolic link is followed) and reads its header.
    /// A path that is not a regular file, a file above 4 GiB + 8 bytes (larger than any
    /// RIFF file) or one that does not start "RIFF....WAVE" is refused before any chunk is read.
    public convenience init(path: String) throws(WAVError) {
        // O_NONBLOCK: opening a named pipe with no writer must not wait (it is then refused as not a
        // regular file); reads of a regular file are unaffected.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .io("cannot read \(path): \(String(cString: strerror(errno)).lowercased())") }
        let descriptor = FileDescriptor(fd: fd, path: path)
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("cannot read \(path): \(String(cString: strerror(errno)).lowercased())") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .io("\(path) is not a regular file") }
        let size = Int(info.st_size)
        guard size <= Int(UInt32.max) + 8 else { throw .tooLarge }
        // Chunk headers are read through a 64 KiB window: a file of many small chunks costs
        // one read per window, not one per chunk.
        var window: [UInt8] = []
        var windowStart = 0
        let header = try WAVHeader.locate(size: size) { (offset, count) throws(WAVError) in
            if offset < windowStart || offset + count > windowStart + window.count {
                window = try WAVReader.pread(descriptor, at: offset, count: max(count, 64 * 1024))
                windowStart = offset
            }
            let from = offset - windowStart
            return Array(window[from..<min(window.count, from + count)])
        }
        self.init(storage: .file(descriptor), header: header)
    }

    /// Reads the samples of a WAV file held in memory (whole blocks only; its format is
    /// checked).
    public convenience init(file: WAVFile) throws(WAVError) {
        try file.format.validate()
        let whole = file.blockCount * file.format.blockAlign
        self.init(storage: .memory(whole == file.data.count ? file.data : Array(file.data.prefix(whole))),
                  header: WAVHeader(format: file.format, dataOffset: 0, dataBytes: whole))
    }

    /// Parses a WAV file held in `bytes` (the header only; the data stays where it is).
    public convenience init(bytes: [UInt8]) throws(WAVError) {
        let header = try WAVHeader.locate(size: bytes.count) { (offset, count) throws(WAVError) in
            Array(bytes[offset..<min(bytes.count, offset + count)])
        }
        self.init(storage: .memory(bytes), header: header)
    }

    /// Another reader of the same data, at block 0 (it shares the open file).
    public func reopened() -> WAVReader { WAVReader(storage: storage, header: header) }

    /// Moves to block `block` (clamped to the data).
    public func seek(toBlock block: Int) { position = min(max(0, block), blockCount) }

    /// Reads up to `blocks` whole blocks (no more than `into` holds) in the file's WAV
    /// layout; returns the blocks read (0 at the end of the data). A file that ends before
    /// its data chunk does (it shrank after the header was read) is `truncated`.
    public func read(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int) throws(WAVError) -> Int {
        let align = format.blockAlign
        let blocks = min(max(0, wanted), dst.count / align, blockCount - position)
        guard blocks > 0, let base = dst.baseAddress else { return 0 }
        let offset = header.dataOffset + position * align
        let count = blocks * align
        switch storage {
        case .memory(let bytes):
            bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        case .file(let d):
            var done = 0
            while done < count {
                let n = Glibc.pread(d.fd, base + done, count - done, off_t(offset + done))
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else { throw .io("cannot read \(d.path): \(String(cString: strerror(errno)).lowercased())") }
                guard n > 0 else {
                    throw .truncated("the data chunk announces \(header.dataBytes) bytes from byte \(header.dataOffset), the file ends at byte \(offset + done)")
                }
                done += n
            }
        }
        position += blocks
        return blocks
    }

    /// Reads every remaining block into one array (WAV layout).
    public func readAll() throws(WAVError) -> [UInt8] {
        var data = [UInt8](repeating: 0, count: (blockCount - position) * format.blockAlign)
        var result: Result<Int, WAVError> = .success(0)
        data.withUnsafeMutableBytes { d in
            result = Result { () throws(WAVError) in try read(into: d, blocks: blockCount - position) }
        }
        _ = try result.get()
        return data
    }

    /// `count` bytes at `offset` of an open file (fewer at its end).
    private static func pread(_ d: FileDescriptor, at offset: Int, count: Int) throws(WAVError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        var failure: Int32 = 0
        out.withUnsafeMutableBytes { b in
            while done < count {
                let n = Glibc.pread(d.fd, b.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0, errno == EINTR { continue }
                if n < 0 { failure = errno; return }
                if n == 0 { return }
                done += n
            }
        }
        guard failure == 0 else { throw .io("cannot read \(d.path): \(String(cString: strerror(failure)).lowercased())") }
        return Array(out.prefix(done))
    }
}
