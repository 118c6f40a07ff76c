import Foundation
import HDACodec
import HDAudio

/// The sample blocks of a stream, read in order a few at a time: what a path renders, or
/// what it expects to come out. Nothing holds the whole signal: memory does not grow with
/// its length.
protocol PathSignal: AnyObject {
    /// The layout of the blocks read (the memory layout of this format).
    var format: StreamFormat { get }
    /// Blocks in all.
    var blocks: Int { get }
    /// Blocks read so far.
    var position: Int { get }
    /// Reads up to `blocks` blocks (no more than `dst` holds) and returns how many it read
    /// (fewer only at the end of the signal).
    func read(into dst: UnsafeMutableRawBufferPointer, blocks: Int) throws(AudioPathError) -> Int
}

/// A WAV file's samples in the memory layout of a stream format, read from a `WAVReader`:
/// straight into the caller's buffer when the two layouts are the same bytes (16-bit WAV
/// and 16-bit memory are), converted through a bounded scratch buffer otherwise.
final class WAVSignal: PathSignal {
    let reader: WAVReader
    let format: StreamFormat
    private let from: PCMLayout
    private let to: PCMLayout
    private var scratch: [UInt8] = []

    /// The file's samples as `format` (its `streamFormat`, or a layout carrying them bit for bit).
    init(_ reader: WAVReader, format: StreamFormat) throws(AudioPathError) {
        guard let from = PCMLayout.wav(reader.format), let to = PCMLayout.memory(format) else {
            throw .invalidFormat(format)
        }
        self.reader = reader
        self.format = format
        self.from = from
        self.to = to
    }

    var blocks: Int { reader.blockCount }
    var position: Int { reader.position }

    func read(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int) throws(AudioPathError) -> Int {
        let blocks = min(max(0, wanted), dst.count / to.blockBytes)
        do throws(WAVError) {
            if from.sameBytes(as: to) { return try reader.read(into: dst, blocks: blocks) }
            // At most 64 KiB of file layout at a time.
            let step = max(1, (64 * 1024) / from.blockBytes)
            if scratch.count < min(step, blocks) * from.blockBytes { scratch = [UInt8](repeating: 0, count: min(step, blocks) * from.blockBytes) }
            var done = 0
            while done < blocks {
                let n = try scratch.withMutableBytes { (s) throws(WAVError) -> Int in
                    let got = try reader.read(into: s, blocks: min(step, blocks - done))
                    PCMLayout.convert(UnsafeRawBufferPointer(s), from: from,
                                      into: UnsafeMutableRawBufferPointer(rebasing: dst[(done * to.blockBytes)...]), to: to, blocks: got)
                    return got
                }
                guard n > 0 else { break }
                done += n
            }
            return done
        } catch {
            throw .wav(error)
        }
    }
}

/// Samples held in memory in the layout of `source` (a caller's signal), read in the
/// memory layout of `format` (a copy when the two are the same bytes).
final class MemorySignal: PathSignal {
    let data: [UInt8]
    let format: StreamFormat
    private let from: PCMLayout
    private let to: PCMLayout
    let blocks: Int
    private(set) var position = 0

    init(_ data: [UInt8], layout source: StreamFormat, format: StreamFormat) throws(AudioPathError) {
        guard let from = PCMLayout.memory(source), let to = PCMLayout.memory(format) else {
            throw .invalidFormat(format)
        }
        self.data = data
        self.format = format
        self.from = from
        self.to = to
        blocks = data.count / from.blockBytes
    }

    func read(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int) throws(AudioPathError) -> Int {
        let n = data.withUnsafeBytes { s in
            PCMLayout.convert(UnsafeRawBufferPointer(rebasing: s[(position * from.blockBytes)...]), from: from,
                              into: dst, to: to, blocks: min(max(0, wanted), blocks - position))
        }
        position += n
        return n
    }
}

/// The demo's test signal, made block by block: channel c a sine of 440 x (c + 1) Hz at
/// half scale.
///
/// Sample n of channel c is `round(0.5 x sin(2 pi k / rate) x (2^(bits-1) - 1))`,
/// left-justified, with the integer phase `k = (440 x (c + 1) x n) mod rate` (bits and rate
/// those of the format): the same sine as `sin(2 pi f n / rate)`, but the phase is exact
/// integer arithmetic, so the values come from one table of the phases a channel can reach
/// (rate / gcd(rate, 440) of them, 1,200 at 48 kHz) computed once, and each sample is a
/// table look-up and an addition. Deterministic: every run, and every reader of the same
/// format, produces the same bytes.
final class ToneSignal: PathSignal {
    /// The lowest channel's frequency.
    static let baseFrequency = 440
    let format: StreamFormat
    let blocks: Int
    private(set) var position = 0
    private let layout: PCMLayout
    /// Canonical (left-justified) values for phases 0, g, 2g, ... (g = gcd(rate, 440)).
    private let table: [UInt32]
    /// Each channel's phase step and current phase, in table entries.
    private let steps: [Int]
    private var phases: [Int]

    /// The tone for `blocks` blocks of `format` (memory layout); nil for an invalid format.
    init?(format: StreamFormat, blocks: Int) {
        guard let layout = PCMLayout.memory(format) else { return nil }
        self.format = format
        self.layout = layout
        self.blocks = max(0, blocks)
        let rate = Int(format.sampleRate)
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let g = gcd(rate, Self.baseFrequency)
        let period = rate / g
        let bits = Int(format.validBitsPerSample)
        let full = Double((Int64(1) << (bits - 1)) - 1)
        table = (0..<period).map { j in
            let x = (0.5 * sin(2 * Double.pi * Double(j * g) / Double(rate)) * full).rounded()
            return UInt32(truncatingIfNeeded: Int64(x) << (32 - bits))
        }
        steps = (0..<layout.channels).map { c in (Self.baseFrequency * (c + 1) / g) % period }
        phases = Array(repeating: 0, count: layout.channels)
    }

    func read(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int) throws(AudioPathError) -> Int {
        let n = min(max(0, wanted), dst.count / layout.blockBytes, blocks - position)
        guard n > 0, let base = dst.baseAddress else { return 0 }
        let period = table.count, channels = layout.channels
        table.withUnsafeBufferPointer { t in
            steps.withUnsafeBufferPointer { step in
                phases.withUnsafeMutableBufferPointer { phase in
                    switch layout.containerBytes {
                    case 2:
                        let out = base.assumingMemoryBound(to: UInt16.self)
                        for i in 0..<(n * channels) {
                            let c = i % channels
                            out[i] = UInt16(truncatingIfNeeded: t[phase[c]] >> 16).littleEndian
                            phase[c] += step[c]
                            if phase[c] >= period { phase[c] -= period }
                        }
                    case 4:
                        let out = base.assumingMemoryBound(to: UInt32.self)
                        let mask = layout.canonicalMask
                        for i in 0..<(n * channels) {
                            let c = i % channels
                            out[i] = (t[phase[c]] & mask).littleEndian
                            phase[c] += step[c]
                            if phase[c] >= period { phase[c] -= period }
                        }
                    default:
                        for i in 0..<(n * channels) {
                            let c = i % channels
                            layout.store(t[phase[c]], base + i * layout.containerBytes)
                            phase[c] += step[c]
                            if phase[c] >= period { phase[c] -= period }
                        }
                    }
                }
            }
        }
        position += n
        return n
    }
}

/// One signal read twice, from the source once: `read` passes the source's blocks on and
/// keeps a copy until `follower` has read them. The follower never gets ahead of the
/// reader (it returns fewer blocks than asked when it would), so the copy holds only the
/// blocks between the two: for `play`, what the engine's buffer and the link hold between
/// the client's refill and the DAC's sink.
///
/// `@unchecked Sendable`: the render side reads it from the path's thread, the follower
/// from the codec's sink; `source`, `queue`, `head`, `overflowed` and `peak` are private and touched only inside
/// `lock.withLock`; `format` and `blocks` are immutable Sendable values.
final class TeeSignal: PathSignal, @unchecked Sendable {
    private let lock = PThreadMutex(())
    private let source: any PathSignal
    private var queue: [UInt8] = []
    private var head = 0
    private var overflowed = false
    private var peak = 0
    /// The most bytes the copy has held at once.
    var peakBytes: Int { lock.withLock { _ in peak } }
    /// The most the copy holds (16 times the largest DMA buffer a path asks for).
    static let limitBytes = 16 << 20
    let format: StreamFormat
    let blocks: Int

    init(_ source: any PathSignal) {
        self.source = source
        format = source.format
        blocks = source.blocks
    }

    var position: Int { lock.withLock { _ in source.position } }

    func read(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int) throws(AudioPathError) -> Int {
        let bb = format.blockBytes
        let result = lock.withLock { _ -> Result<Int, AudioPathError> in
            let n: Int
            do throws(AudioPathError) { n = try source.read(into: dst, blocks: wanted) } catch { return .failure(error) }
            if head > 0, head >= queue.count / 2 { queue.removeFirst(head); head = 0 }
            // A follower this far behind is not receiving what was read (a run whose DAC
            // refuses the stream): the copy stops, the follower runs dry, and the
            // comparison reports the difference, with memory still bounded.
            guard !overflowed, queue.count - head + n * bb <= Self.limitBytes else {
                overflowed = true
                queue = []
                head = 0
                return .success(n)
            }
            queue.append(contentsOf: UnsafeRawBufferPointer(rebasing: dst[0..<(n * bb)]))
            peak = max(peak, queue.count - head)
            return .success(n)
        }
        return try result.get()
    }

    /// Hands out the blocks `read` passed on, in order, no further than `read` has got.
    fileprivate func follow(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int) -> Int {
        let bb = format.blockBytes
        return lock.withLock { _ in
            let n = min(max(0, wanted), dst.count / bb, (queue.count - head) / bb)
            queue.withUnsafeBytes { q in dst.baseAddress!.copyMemory(from: q.baseAddress! + head, byteCount: n * bb) }
            head += n * bb
            return n
        }
    }

    /// The second reader.
    func follower() -> Follower { Follower(self) }

    /// The second reader of a `TeeSignal`.
    final class Follower: PathSignal {
        private let tee: TeeSignal
        private(set) var position = 0
        init(_ tee: TeeSignal) { self.tee = tee }
        var format: StreamFormat { tee.format }
        var blocks: Int { tee.blocks }
        func read(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int) throws(AudioPathError) -> Int {
            let n = tee.follow(into: dst, blocks: wanted)
            position += n
            return n
        }
    }
}

/// A signal's blocks as a stream of bytes: reads of any length, a block cut by one read
/// finished by the next (DMA pieces and link packets need not end on a block).
final class SignalBytes {
    let signal: any PathSignal
    private let blockBytes: Int
    /// One block, read whole, handed out in parts.
    private var carry: [UInt8]
    private var carryHead = 0
    private var carryCount = 0
    /// Bytes in all.
    let total: Int
    /// Bytes handed out so far.
    private(set) var offset = 0

    init(_ signal: any PathSignal) {
        self.signal = signal
        blockBytes = signal.format.blockBytes
        carry = [UInt8](repeating: 0, count: blockBytes)
        total = signal.blocks * blockBytes
    }

    /// Fills `dst` with the next bytes; returns how many (fewer only at the end).
    func read(into dst: UnsafeMutableRawBufferPointer) throws(AudioPathError) -> Int {
        var at = 0
        if carryHead < carryCount {
            let n = min(dst.count, carryCount - carryHead)
            carry.withUnsafeBytes { c in
                dst.baseAddress!.copyMemory(from: c.baseAddress! + carryHead, byteCount: n)
            }
            carryHead += n
            at = n
        }
        let whole = (dst.count - at) / blockBytes
        if whole > 0 {
            let got = try signal.read(into: UnsafeMutableRawBufferPointer(rebasing: dst[at...]), blocks: whole)
            at += got * blockBytes
            if got < whole { offset += at; return at }
        }
        if at < dst.count {
            let got = try carry.withMutableBytes { (c) throws(AudioPathError) in try signal.read(into: c, blocks: 1) }
            if got == 1 {
                let n = dst.count - at
                carry.withUnsafeBytes { c in (dst.baseAddress! + at).copyMemory(from: c.baseAddress!, byteCount: n) }
                carryHead = n
                carryCount = blockBytes
                at += n
            }
        }
        offset += at
        return at
    }
}

/// Compares bytes as they arrive with an expected signal, holding no more of either than
/// one arriving piece (and a 64 KiB window of the expected bytes): the first difference
/// is found at the right byte however the stream is cut.
final class StreamComparer {
    private let expected: SignalBytes
    private let blockBytes: Int
    private var window: [UInt8]
    private var head = 0
    private var count = 0
    /// Bytes compared (at most the expected signal's length).
    private(set) var received = 0
    /// Bytes that arrived past the expected signal's end (not compared).
    private(set) var extra = 0
    /// The first byte that differs (or where something other than samples arrived).
    private(set) var firstDifference: Int?

    init(expected: any PathSignal) {
        self.expected = SignalBytes(expected)
        blockBytes = expected.format.blockBytes
        window = [UInt8](repeating: 0, count: max(blockBytes, 64 * 1024 / blockBytes * blockBytes))
    }

    /// The expected length in bytes.
    var total: Int { expected.total }

    /// Compares the next bytes; returns how many were within the expected length (the
    /// caller keeps those as the output).
    @discardableResult
    func compare(_ bytes: UnsafeRawBufferPointer) throws(AudioPathError) -> Int {
        let kept = min(bytes.count, total - received)
        extra += bytes.count - kept
        guard firstDifference == nil else { received += kept; return kept }
        var at = 0
        while at < kept {
            if head == count {
                let n = try window.withMutableBytes { (w) throws(AudioPathError) in
                    try expected.read(into: UnsafeMutableRawBufferPointer(rebasing: w[0..<min(w.count, total - expected.offset)]))
                }
                guard n > 0 else { firstDifference = received; break }
                head = 0
                count = n
            }
            let n = min(kept - at, count - head)
            let same = window.withUnsafeBytes { w in memcmp(bytes.baseAddress! + at, w.baseAddress! + head, n) == 0 }
            if !same {
                let i = window.withUnsafeBytes { w in (0..<n).first { bytes[at + $0] != w[head + $0] } ?? 0 }
                firstDifference = received + i
                received += kept - at
                return kept
            }
            head += n
            at += n
            received += n
        }
        return kept
    }

    /// Something that is not the signal arrived at the current position (samples in
    /// another format): a difference there.
    func markDifference() {
        if firstDifference == nil { firstDifference = received }
    }

    /// True when every expected byte arrived, equal.
    var same: Bool { firstDifference == nil && received == total }

    /// The first block that differs: where a byte differs, or where the output stops short.
    var firstDifferentBlock: Int? {
        if let firstDifference { return firstDifference / blockBytes }
        return received < total ? received / blockBytes : nil
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeMutableBytes` for a body with typed throws.
    mutating func withMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var result: Result<R, E>?
        withUnsafeMutableBytes { b in result = Result { () throws(E) in try body(b) } }
        return try result!.get()
    }
}
