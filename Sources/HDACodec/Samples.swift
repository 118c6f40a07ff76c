public import HDAudio
import Foundation

/// Where a DAC's output goes: receives sample blocks in the HD Audio memory layout of a
/// stream format, with the bits below the valid bits already cleared (as the link carries them).
public protocol SampleSink: AnyObject {
    /// Takes `blocks` sample blocks of `format` from `data` (memory layout, `blocks x format.blockBytes`
    /// bytes). Implementations ignore an invalid format and take no more blocks than `data` holds.
    func consume(_ data: UnsafeRawBufferPointer, blocks: Int, format: StreamFormat)
}

/// Where an ADC's input comes from: supplies sample blocks in the memory layout of a stream format.
public protocol SampleSource: AnyObject {
    /// Fills `data` with `blocks` sample blocks of `format` (memory layout) and returns how
    /// many of them came from the source's signal; the rest are silence. For an invalid format
    /// implementations write nothing and return 0; they write no more blocks than `data` holds.
    func produce(into data: UnsafeMutableRawBufferPointer, blocks: Int, format: StreamFormat) -> Int
}

/// An in-memory sample buffer: a sink that keeps everything it gets, and a source that
/// plays back what it holds from a read cursor, then silence.
public final class SampleBuffer: SampleSink, SampleSource {
    /// The format of `data` (set by the first `consume`, or at init).
    public private(set) var format: StreamFormat?
    /// Everything received, in the memory layout of `format`.
    public private(set) var data: [UInt8]
    /// Blocks already handed out by `produce`.
    public private(set) var readBlocks: Int = 0
    /// Number of `consume` calls whose format differed from `format` (their samples were converted).
    public private(set) var formatChanges: Int = 0

    /// An empty buffer; its format is that of the first samples it receives.
    public init() { data = [] }

    /// A buffer holding `data` in the memory layout of `format`, ready to be played.
    /// Throws for an invalid format or data that is not whole blocks.
    public init(format: StreamFormat, data: [UInt8]) throws(WAVError) {
        guard format.isValid else { throw .invalidStreamFormat(format.problem ?? "\(format)") }
        guard data.count % format.blockBytes == 0 else { throw .dataLengthMismatch }
        self.format = format
        self.data = data
    }

    /// Whole blocks held.
    public var blockCount: Int { format.map { data.count / $0.blockBytes } ?? 0 }

    /// Appends `blocks` blocks; samples of another format are converted to the buffer's format.
    public func consume(_ src: UnsafeRawBufferPointer, blocks wanted: Int, format incoming: StreamFormat) {
        guard incoming.isValid else { return }
        let blocks = min(wanted, src.count / incoming.blockBytes)
        guard blocks > 0 else { return }
        let mine = format ?? incoming
        format = mine
        if mine == incoming {
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: src[0..<blocks * incoming.blockBytes]))
        } else {
            formatChanges += 1
            let start = data.count
            data.append(contentsOf: repeatElement(0, count: blocks * mine.blockBytes))
            data.withUnsafeMutableBytes { d in
                _ = PCMLayout.convert(src, from: PCMLayout(memoryOf: incoming), into: UnsafeMutableRawBufferPointer(rebasing: d[start...]),
                                  to: PCMLayout(memoryOf: mine), blocks: blocks)
            }
        }
    }

    /// Hands out the next blocks from the read cursor, converted to `format`, then silence.
    public func produce(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int, format: StreamFormat) -> Int {
        guard let out = PCMLayout.memory(format) else { return 0 }
        let blocks = min(max(wanted, 0), dst.count / out.blockBytes)
        guard let mine = self.format else { out.fillSilence(dst, blocks: blocks); return 0 }
        let n = max(0, min(blocks, blockCount - readBlocks))
        data.withUnsafeBytes { s in
            let from = UnsafeRawBufferPointer(rebasing: s[(readBlocks * mine.blockBytes)...])
            _ = PCMLayout.convert(from, from: PCMLayout(memoryOf: mine), into: dst, to: out, blocks: n)
        }
        out.fillSilence(UnsafeMutableRawBufferPointer(rebasing: dst[(n * out.blockBytes)...]), blocks: blocks - n)
        readBlocks += n
        return n
    }

    /// Moves the read cursor back to the start.
    public func rewind() { readBlocks = 0 }

    /// The held samples as a WAV file of the layout that carries the format bit for bit.
    public func wavFile() -> WAVFile? {
        guard let format, let wav = try? SampleConversion.wavBytes(fromMemory: data, stream: format) else { return nil }
        return WAVFile(format: WAVFormat(format), data: wav)
    }
}

/// A loopback: what a DAC plays (as a sink) an ADC records (as a source), first in first
/// out, with the samples passing unchanged when both sides use the same format.
///
/// It does not look at link frames: the ADC gets whatever the DAC has played when it is
/// asked. The controller moves time in batches and hands a codec every frame's output before
/// that frame's input, so within a batch the ADC may also find samples the DAC played in
/// later frames of it. While the FIFO holds enough, what the ADC records does not depend on
/// the batching; when it runs dry, where silence falls does. `DelayLine` (a FIFO primed with
/// a latency at least as long as the longest batch) records the same however time moves.
public final class Loopback: SampleSink, SampleSource {
    private var queue: [UInt8] = []
    private var head = 0
    /// The format of the queued samples (that of the last `consume`).
    public private(set) var format: StreamFormat?
    /// Blocks received in total.
    public private(set) var blocksIn = 0
    /// Blocks handed out from the signal in total.
    public private(set) var blocksOut = 0
    /// Blocks of silence handed out because the queue was empty.
    public private(set) var underrunBlocks = 0

    /// An empty loopback.
    public init() {}

    /// Blocks waiting to be recorded.
    public var queuedBlocks: Int { format.map { (queue.count - head) / $0.blockBytes } ?? 0 }

    /// Queues the blocks; a format change drops what was queued in the old format.
    public func consume(_ src: UnsafeRawBufferPointer, blocks wanted: Int, format incoming: StreamFormat) {
        guard incoming.isValid else { return }
        let blocks = min(wanted, src.count / incoming.blockBytes)
        guard blocks > 0 else { return }
        if format != incoming { queue.removeAll(keepingCapacity: true); head = 0; format = incoming }
        if head > 0, head >= queue.count / 2 { queue.removeFirst(head); head = 0 }
        queue.append(contentsOf: UnsafeRawBufferPointer(rebasing: src[0..<blocks * incoming.blockBytes]))
        blocksIn += blocks
    }

    /// Takes queued blocks (converted to `format` if it differs), then silence.
    public func produce(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int, format: StreamFormat) -> Int {
        guard let out = PCMLayout.memory(format) else { return 0 }
        let blocks = min(max(wanted, 0), dst.count / out.blockBytes)
        var n = 0
        if let mine = self.format {
            n = min(blocks, queuedBlocks)
            queue.withUnsafeBytes { s in
                _ = PCMLayout.convert(UnsafeRawBufferPointer(rebasing: s[head...]), from: PCMLayout(memoryOf: mine),
                                  into: dst, to: out, blocks: n)
            }
            head += n * mine.blockBytes
        }
        out.fillSilence(UnsafeMutableRawBufferPointer(rebasing: dst[(n * out.blockBytes)...]), blocks: blocks - n)
        blocksOut += n
        underrunBlocks += blocks - n
        return n
    }
}

/// A deterministic tone generator: a sine of a given frequency and amplitude on every
/// channel (channel c at `frequency x (c + 1)` when `spreadChannels`), in any format.
/// Sample n of a channel is `round(amplitude x sin(2 pi f n / rate) x (2^(bits-1) - 1))`,
/// left-justified, where rate and bits are those of the format asked for.
public final class ToneGenerator: SampleSource {
    /// Frequency in Hz.
    public let frequency: Double
    /// Amplitude, 0 to 1 of full scale.
    public let amplitude: Double
    /// True: channel c plays `frequency x (c + 1)`, so channels can be told apart.
    public let spreadChannels: Bool
    /// Blocks produced so far (the phase of the next block).
    public private(set) var position: Int = 0

    /// A tone of `frequency` Hz at `amplitude` (clamped to 0...1).
    public init(frequency: Double = 440, amplitude: Double = 0.5, spreadChannels: Bool = false) {
        self.frequency = frequency
        // A non-finite amplitude (NaN, infinity) is silence, never a trap.
        self.amplitude = amplitude.isFinite ? min(max(amplitude, 0), 1) : 0
        self.spreadChannels = spreadChannels
    }

    /// The canonical (left-justified) value of block `n`, channel `channel`, in `format`.
    public func sample(block n: Int, channel: Int, format: StreamFormat) -> UInt32 {
        let bits = Int(format.validBitsPerSample)
        let f = frequency * (spreadChannels ? Double(channel + 1) : 1)
        let full = Double((Int64(1) << (bits - 1)) - 1)
        let x = (amplitude * sin(2 * Double.pi * f * Double(n) / Double(format.sampleRate)) * full).rounded()
        // A non-finite frequency gives sin(inf) = NaN: silence.
        let v = x.isFinite ? Int64(x) << (32 - bits) : 0
        return UInt32(truncatingIfNeeded: v)
    }

    /// Fills every block with the tone; returns the blocks written.
    public func produce(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int, format: StreamFormat) -> Int {
        guard let layout = PCMLayout.memory(format) else { return 0 }
        let blocks = min(wanted, dst.count / layout.blockBytes)
        guard blocks > 0, let base = dst.baseAddress else { return 0 }
        for b in 0..<blocks {
            for c in 0..<layout.channels {
                layout.store(sample(block: position + b, channel: c, format: format),
                             base + b * layout.blockBytes + c * layout.containerBytes)
            }
        }
        position += blocks
        return blocks
    }
}

/// A source that plays a WAV file: its samples converted to the format asked for
/// (bit-exact when that format is the file's `streamFormat`), then silence.
///
/// A file opened by path is read as it plays, a piece of at most 64 KiB at a time (`WAVReader`),
/// so a 4 GiB file plays in the memory of a short one.
public final class WAVFileSource: SampleSource {
    private let reader: WAVReader
    private var scratch: [UInt8] = []
    /// The file's sample layout.
    public var format: WAVFormat { reader.format }
    /// Whole blocks in the file's data.
    public var blockCount: Int { reader.blockCount }
    /// Blocks played so far.
    public var position: Int { reader.position }
    /// Why the file stopped before its end while playing (it shrank, or a read failed), or nil.
    /// Everything after that point plays as silence.
    public private(set) var readError: WAVError?

    /// Plays a WAV file held in memory; throws for a format Azalia does not read or data
    /// that is not whole blocks.
    public init(file: WAVFile) throws(WAVError) {
        try file.format.validate()
        guard file.data.count % file.format.blockAlign == 0 else { throw .dataLengthMismatch }
        reader = try WAVReader(file: file)
    }

    /// Plays the WAV file at `path`: its header is read and checked now, its samples as
    /// they are played.
    public init(path: String) throws(WAVError) { reader = try WAVReader(path: path) }

    /// True when every block of the file has been played (or the file stopped early).
    public var isFinished: Bool { readError != nil || position >= blockCount }

    /// Bytes of the file read at a time.
    static let pieceBytes = 64 * 1024

    /// The next blocks of the file, then silence; returns the blocks that came from the file.
    public func produce(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int, format: StreamFormat) -> Int {
        guard let out = PCMLayout.memory(format) else { return 0 }
        let blocks = min(max(wanted, 0), dst.count / out.blockBytes)
        let from = PCMLayout(wavOf: reader.format)
        var done = 0
        // A read that fails is tried again in halves, down to one block, so that every whole
        // block before the point where the file stopped is still played.
        var limit = max(1, Self.pieceBytes / from.blockBytes)
        while done < blocks, readError == nil, position < blockCount {
            let rest = UnsafeMutableRawBufferPointer(rebasing: dst[(done * out.blockBytes)...])
            let piece = min(blocks - done, limit)
            do throws(WAVError) {
                let got: Int
                if from.sameBytes(as: out) {
                    got = try reader.read(into: rest, blocks: piece)   // the file's bytes are the stream's
                } else {
                    if scratch.count < piece * from.blockBytes { scratch = [UInt8](repeating: 0, count: piece * from.blockBytes) }
                    let reader = self.reader
                    got = try scratch.withUnsafeMutableBytes { s in
                        Result { () throws(WAVError) -> Int in
                            let n = try reader.read(into: s, blocks: piece)
                            _ = PCMLayout.convert(UnsafeRawBufferPointer(s), from: from, into: rest, to: out, blocks: n)
                            return n
                        }
                    }.get()
                }
                guard got > 0 else { break }
                done += got
            } catch {
                if piece > 1 { limit = piece / 2 } else { readError = error }
            }
        }
        out.fillSilence(UnsafeMutableRawBufferPointer(rebasing: dst[(done * out.blockBytes)...]), blocks: blocks - done)
        return done
    }
}

/// A sink that writes a WAV file as samples arrive: the header first, patched with the
/// final sizes on `finish()`. The file's layout is `WAVFormat(format)` of the first
/// samples' format (or of the format given); later samples of another format are converted.
public final class WAVFileSink: SampleSink {
    /// Where the file goes.
    public let path: String
    /// The file's layout, once known.
    public private(set) var format: WAVFormat?
    /// Data bytes written so far.
    public private(set) var dataBytes: Int = 0
    /// The first I/O error, if any (later samples are then dropped).
    public private(set) var error: WAVError?
    /// Number of `consume` calls whose format was not the file's (their samples were converted).
    public private(set) var formatChanges: Int = 0
    private var handle: FileHandle?
    private var pending: [UInt8] = []
    private var scratch: [UInt8] = []
    private var lastStream: StreamFormat?
    private var finished = false

    /// A sink writing to `path`; the layout is `format` if given, else that of the first samples.
    public init(path: String, format: WAVFormat? = nil) {
        self.path = path
        self.format = format
    }

    deinit { try? finish() }

    private func open(_ wav: WAVFormat) throws(WAVError) {
        let header = try WAVFile.header(for: wav, dataBytes: 0)
        guard FileManager.default.createFile(atPath: path, contents: Data(header)),
              let h = FileHandle(forWritingAtPath: path) else { throw .io("cannot create \(path)") }
        h.seekToEndOfFile()
        handle = h
    }

    /// Converts the blocks to the file's layout and appends them.
    public func consume(_ src: UnsafeRawBufferPointer, blocks wanted: Int, format incoming: StreamFormat) {
        guard incoming.isValid, error == nil, !finished else { return }
        let blocks = min(wanted, src.count / incoming.blockBytes)
        guard blocks > 0 else { return }
        let wav = format ?? WAVFormat(incoming)
        do throws(WAVError) {
            if handle == nil { format = wav; try open(wav) }
            if let last = lastStream, last != incoming { formatChanges += 1 }
            lastStream = incoming
            let to = PCMLayout(wavOf: wav)
            let bytes = blocks * to.blockBytes
            // The RIFF size (a UInt32) counts the header after its first 8 bytes, the data and a pad byte.
            let total = 4 + 8 + (wav.needsExtensible ? 40 : 16) + 8 + dataBytes + bytes + ((dataBytes + bytes) & 1)
            guard total <= Int(UInt32.max) else { throw .tooLarge }
            if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
            scratch.withUnsafeMutableBytes { d in
                _ = PCMLayout.convert(src, from: PCMLayout(memoryOf: incoming), into: d, to: to, blocks: blocks)
            }
            pending.append(contentsOf: scratch[0..<bytes])
            dataBytes += bytes
            if pending.count >= 1 << 20 { try flush() }
        } catch {
            self.error = error
        }
    }

    private func flush() throws(WAVError) {
        guard let handle, !pending.isEmpty else { return }
        do { try handle.write(contentsOf: pending) } catch { throw .io("cannot write \(path): \(error.localizedDescription)") }
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes what is pending, patches the header's sizes and closes the file. A sink that
    /// never received samples writes a file with no data in the layout given at init (if any).
    public func finish() throws(WAVError) {
        guard !finished else { if let error { throw error }; return }
        finished = true
        if let error { throw error }
        if handle == nil, let format { try open(format) }
        guard let handle, let format else { return }
        try flush()
        do {
            if dataBytes & 1 == 1 { try handle.write(contentsOf: [0]) }
            let header = try WAVFile.header(for: format, dataBytes: dataBytes)
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: header)
            try handle.close()
        } catch let e as WAVError {
            throw e
        } catch {
            throw .io("cannot finish \(path): \(error.localizedDescription)")
        }
        self.handle = nil
    }
}
