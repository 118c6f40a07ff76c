import Foundation
import HDACodec
import HDAudio

/// Where a path's output (what the DAC's sink received, or what the client recorded) goes.
public enum AudioPathOutput: Sendable, Hashable {
    /// Nowhere: the output is compared with the input as it arrives and not kept.
    case none
    /// A WAV file, written as the output arrives (to a temporary file beside it, renamed
    /// over `path` when the run completes; removed if the run fails).
    case file(String)
}

/// Writes a path's output as it arrives: bytes in the memory layout of a stream format,
/// in any pieces, converted to a WAV layout (a copy when the two are the same bytes) and
/// appended to a WAV file (through a `BackgroundFileWriter`, in 1 MiB pieces, its header
/// patched at the end) or, for the in-memory API, to an array.
final class PathOutputWriter {
    /// Bytes handed to the file's writer thread at a time.
    static let chunkBytes = 1 << 20

    private let from: PCMLayout
    private let to: PCMLayout
    private let wav: WAVFormat
    /// The file's final path, and the temporary one it is written to.
    let path: String?
    private let temporary: String?
    private let file: BackgroundFileWriter?
    /// The WAV bytes: all of them (in memory), or those not yet handed to the file's writer.
    private(set) var data: [UInt8] = []
    /// WAV data bytes written in all.
    private(set) var dataBytes = 0
    private var carry: [UInt8] = []
    private var finished = false

    /// Output kept in memory.
    init(memoryOf stream: StreamFormat, as wav: WAVFormat) {
        from = PCMLayout.memory(stream)!
        to = PCMLayout.wav(wav)!
        self.wav = wav
        path = nil
        temporary = nil
        file = nil
    }

    /// Output written to `path` (created now, so an unwritable path fails before the run).
    init(path: String, stream: StreamFormat, as wav: WAVFormat) throws(AudioPathError) {
        guard let from = PCMLayout.memory(stream), let to = PCMLayout.wav(wav) else {
            throw .invalidFormat(stream)
        }
        self.from = from
        self.to = to
        self.wav = wav
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (dir.isEmpty ? "" : dir + "/") + ".\(name).azalia-\(getpid()).partial"
        self.temporary = temporary
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .wav(.io("cannot write \(path): \(String(cString: strerror(errno)).lowercased())")) }
        // The header with no data for now; `finish` writes the sizes.
        let header: [UInt8]
        do { header = try WAVFile.header(for: wav, dataBytes: 0) } catch { close(fd); unlink(temporary); throw .wav(error) }
        if let problem = BackgroundFileWriter.writeAll(fd, header) {
            close(fd)
            unlink(temporary)
            throw .wav(.io("cannot write \(path): \(problem)"))
        }
        file = BackgroundFileWriter(fd: fd)
        data.reserveCapacity(Self.chunkBytes)
    }

    deinit { discard() }

    /// Appends bytes (memory layout of the stream); a block cut at the end waits for the next piece.
    func write(_ bytes: UnsafeRawBufferPointer) {
        let bb = from.blockBytes
        var input = bytes
        if !carry.isEmpty {
            let n = min(bb - carry.count, bytes.count)
            carry.append(contentsOf: bytes[0..<n])
            input = UnsafeRawBufferPointer(rebasing: bytes[n...])
            if carry.count == bb {
                let block = carry
                carry.removeAll(keepingCapacity: true)
                block.withUnsafeBytes { append($0, blocks: 1) }
            }
        }
        let whole = input.count / bb
        if whole > 0 { append(input, blocks: whole) }
        carry.append(contentsOf: input[(whole * bb)...])
    }

    private func append(_ bytes: UnsafeRawBufferPointer, blocks: Int) {
        // The piece goes to the writer before this one would overflow it: the buffer keeps
        // its capacity, and is handed on (not copied) and handed back (not reallocated).
        if let file, !data.isEmpty, data.count + blocks * to.blockBytes > Self.chunkBytes {
            var full: [UInt8] = []
            swap(&full, &data)
            data = file.append(consume full)
            data.reserveCapacity(Self.chunkBytes)
        }
        let start = data.count
        if from.sameBytes(as: to) {
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<(blocks * to.blockBytes)]))
        } else {
            data.append(contentsOf: repeatElement(0, count: blocks * to.blockBytes))
            data.withUnsafeMutableBytes { d in
                _ = PCMLayout.convert(bytes, from: from, into: UnsafeMutableRawBufferPointer(rebasing: d[start...]), to: to, blocks: blocks)
            }
        }
        dataBytes += blocks * to.blockBytes
    }

    /// Completes the file (the rest written, the header's sizes patched) and renames it over
    /// `path`. A RIFF file holds at most 4 GiB: more data than its sizes can say is `tooLarge`.
    func finish() throws(AudioPathError) {
        guard !finished else { return }
        finished = true
        guard let file, let path, let temporary else { return }
        if dataBytes & 1 == 1 { data.append(0) }
        var last: [UInt8] = []
        swap(&last, &data)
        _ = file.append(consume last)
        let failure = file.finish()
        defer { close(file.fd) }
        if let failure { unlink(temporary); throw .wav(.io("cannot write \(path): \(failure)")) }
        let header: [UInt8]
        do { header = try WAVFile.header(for: wav, dataBytes: dataBytes) } catch { unlink(temporary); throw .wav(error) }
        let wrote = header.withUnsafeBytes { pwrite(file.fd, $0.baseAddress!, $0.count, 0) }
        guard wrote == header.count, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno)).lowercased()
            unlink(temporary)
            throw .wav(.io("cannot write \(path): \(reason)"))
        }
    }

    /// Removes the temporary file of a run that did not complete.
    func discard() {
        guard !finished else { return }
        finished = true
        if let file, let temporary {
            _ = file.finish()
            close(file.fd)
            unlink(temporary)
        }
    }
}

/// The DAC's sink of `play`: compares what arrives with the input as it arrives, keeps
/// the input's length of it (writing it out when asked) and only counts the rest (the
/// silence a client pads the end with).
///
/// `@unchecked Sendable`: the codec (inside the controller) calls it, the path closes it
/// after the run. Every mutable or non-Sendable part (`comparer`, `output`, `error`,
/// `formatChanges`) is private and touched only inside `lock.withLock`, so no two threads
/// touch them at once; `format` is an immutable Sendable value.
final class ComparingSink: SampleSink, @unchecked Sendable {
    private let lock = PThreadMutex(())
    private let comparer: StreamComparer
    private let output: PathOutputWriter?
    private var error: AudioPathError?
    private var formatChanges = 0
    /// The format the samples must arrive in (the stream's DMA layout).
    let format: StreamFormat

    init(expected: any PathSignal, output: PathOutputWriter?) {
        format = expected.format
        comparer = StreamComparer(expected: expected)
        self.output = output
    }

    func consume(_ src: UnsafeRawBufferPointer, blocks wanted: Int, format incoming: StreamFormat) {
        guard incoming.isValid else { return }
        let blocks = min(wanted, src.count / incoming.blockBytes)
        guard blocks > 0 else { return }
        lock.withLock { _ in
            guard error == nil else { return }
            guard incoming == format else { formatChanges += 1; comparer.markDifference(); return }
            let bytes = UnsafeRawBufferPointer(rebasing: src[0..<(blocks * format.blockBytes)])
            do throws(AudioPathError) {
                let kept = try comparer.compare(bytes)
                if kept > 0 { output?.write(UnsafeRawBufferPointer(rebasing: bytes[0..<kept])) }
            } catch {
                self.error = error
            }
        }
    }

    /// The comparison's result, once the run is over; the output file is completed.
    func close() throws(AudioPathError) -> (same: Bool, firstDifferentBlock: Int?, memory: [UInt8]) {
        let result = lock.withLock { _ -> Result<(Bool, Int?, [UInt8]), AudioPathError> in
            if let error { output?.discard(); return .failure(error) }
            do throws(AudioPathError) { try output?.finish() } catch { return .failure(error) }
            return .success((comparer.same, comparer.firstDifferentBlock, output?.data ?? []))
        }
        return try result.get()
    }

    /// Removes a partial output file (the run failed).
    func discard() { lock.withLock { _ in output?.discard() } }
}

/// The ADC's source of `record`: a signal's blocks in the format the ADC asks for (the
/// stream's own, unless the converter was programmed otherwise), then silence.
///
/// `@unchecked Sendable`: the codec (inside the controller) calls it, the path reads its
/// error after the run. `signal`, `scratch` and `readError` are private and touched only
/// inside `lock.withLock`; `format` is an immutable Sendable value.
final class SignalSource: SampleSource, @unchecked Sendable {
    private let lock = PThreadMutex(())
    private let signal: any PathSignal
    private var scratch: [UInt8] = []
    private var readError: AudioPathError?
    let format: StreamFormat

    init(_ signal: any PathSignal) {
        format = signal.format
        self.signal = signal
    }

    func produce(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int, format asked: StreamFormat) -> Int {
        guard let out = PCMLayout.memory(asked), let mine = PCMLayout.memory(format) else { return 0 }
        let blocks = min(max(wanted, 0), dst.count / out.blockBytes)
        let n = lock.withLock { _ -> Int in
            guard readError == nil else { return 0 }
            do throws(AudioPathError) {
                if mine.sameBytes(as: out) { return try signal.read(into: dst, blocks: blocks) }
                if scratch.count < blocks * mine.blockBytes { scratch = [UInt8](repeating: 0, count: blocks * mine.blockBytes) }
                let signal = self.signal
                return try scratch.withMutableBytes { (b) throws(AudioPathError) -> Int in
                    let got = try signal.read(into: b, blocks: blocks)
                    PCMLayout.convert(UnsafeRawBufferPointer(b), from: mine, into: dst, to: out, blocks: got)
                    return got
                }
            } catch {
                readError = error
                return 0
            }
        }
        out.fillSilence(UnsafeMutableRawBufferPointer(rebasing: dst[(n * out.blockBytes)...]), blocks: blocks - n)
        return n
    }

    /// The first error reading the signal, if any.
    var error: AudioPathError? { lock.withLock { _ in readError } }
}
