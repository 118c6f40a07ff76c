public import HDAudio
import Synchronization

/// A DAC sink that keeps the first `limit` sample blocks it receives (the stream's real
/// samples) and only counts the rest (the silence a client pads the stream's end with),
/// so the output is trimmed to the input's length.
///
/// Sendable: its state lives in a `Mutex`, so the caller can read what the codec (inside
/// the controller) delivered.
public final class RecordingSink: SampleSink, Sendable {
    private struct State {
        var format: StreamFormat?
        var data: [UInt8] = []
        var blocks = 0
        var extraBlocks = 0
        var formatChanges = 0
    }

    private let state = PThreadMutex(State())
    /// Blocks kept at most.
    public let limit: Int

    /// A sink keeping at most `limit` blocks.
    public init(limit: Int) { self.limit = max(0, limit) }

    /// Keeps blocks up to the limit (in the first format seen); counts the rest.
    public func consume(_ src: UnsafeRawBufferPointer, blocks wanted: Int, format: StreamFormat) {
        guard format.isValid else { return }
        let blocks = min(wanted, src.count / format.blockBytes)
        guard blocks > 0 else { return }
        state.withLock { s in
            if s.format == nil { s.format = format }
            guard s.format == format else { s.formatChanges += 1; return }
            let keep = min(blocks, limit - s.blocks)
            if keep > 0 {
                s.data.append(contentsOf: UnsafeRawBufferPointer(rebasing: src[0..<keep * format.blockBytes]))
                s.blocks += keep
            }
            s.extraBlocks += blocks - keep
        }
    }

    /// The kept samples, in the memory layout of `format`.
    public var data: [UInt8] { state.withLock { $0.data } }
    /// The format of the kept samples.
    public var format: StreamFormat? { state.withLock { $0.format } }
    /// Blocks received past the limit.
    public var extraBlocks: Int { state.withLock { $0.extraBlocks } }
    /// Calls whose format differed from the first (their samples were dropped).
    public var formatChanges: Int { state.withLock { $0.formatChanges } }
}

/// A DAC-to-ADC loopback with a fixed latency: a FIFO that starts with `delayBlocks`
/// blocks of silence, so the ADC records the DAC's output `delayBlocks` blocks late.
///
/// Why not HDACodec's `Loopback`: the controller moves each batch of frames engine by
/// engine, input engines first, so within one batch the ADC is asked for samples the DAC
/// has not played yet. An empty FIFO then inserts silence in the middle of the stream,
/// by an amount that depends on how time was batched. A latency of at least the largest
/// batch keeps the FIFO from running dry, and the captured stream is then exactly the
/// rendered one, `delayBlocks` later, however time is batched.
///
/// Packets in another format than `format` are dropped (DAC side) or answered with
/// silence (ADC side) and counted in `formatMismatches`, which the path adds to its
/// report's `codecFormatMismatches`.
///
/// Sendable: its state lives in a `Mutex`, so the path can set the latency once the
/// buffers are allocated (`prime(delayBlocks:)`) and read the counts after the run.
public final class DelayLine: SampleSink, SampleSource, Sendable {
    private struct State {
        var queue: [UInt8] = []
        var head = 0
        var delayBlocks = 0
        var underrunBlocks = 0
        var formatMismatches = 0
    }

    /// The format the loopback carries.
    public let format: StreamFormat
    private let state = PThreadMutex(State())

    /// A loopback of `format` with `delayBlocks` blocks of latency.
    public init(format: StreamFormat, delayBlocks: Int) {
        self.format = format
        prime(delayBlocks: delayBlocks)
    }

    /// Empties the FIFO and fills it with `delayBlocks` blocks of silence (the latency);
    /// called before the stream starts.
    public func prime(delayBlocks: Int) {
        let delay = max(0, delayBlocks)
        var queue = [UInt8](repeating: 0, count: delay * format.blockBytes)
        if let layout = PCMLayout.memory(format) {
            queue.withUnsafeMutableBytes { layout.fillSilence($0, blocks: delay) }
        }
        state.withLock { s in
            s.queue = queue
            s.head = 0
            s.delayBlocks = delay
        }
    }

    /// The latency in blocks.
    public var delayBlocks: Int { state.withLock { $0.delayBlocks } }
    /// Blocks of silence handed out because the FIFO ran dry (0 when the latency suffices).
    public var underrunBlocks: Int { state.withLock { $0.underrunBlocks } }
    /// Packets dropped or silenced because their format was not `format`.
    public var formatMismatches: Int { state.withLock { $0.formatMismatches } }

    /// Queues what the DAC plays.
    public func consume(_ src: UnsafeRawBufferPointer, blocks wanted: Int, format incoming: StreamFormat) {
        let format = self.format
        state.withLock { s in
            guard incoming == format else { s.formatMismatches += 1; return }
            let blocks = min(wanted, src.count / format.blockBytes)
            guard blocks > 0 else { return }
            if s.head > 0, s.head >= s.queue.count / 2 { s.queue.removeFirst(s.head); s.head = 0 }
            s.queue.append(contentsOf: UnsafeRawBufferPointer(rebasing: src[0..<blocks * format.blockBytes]))
        }
    }

    /// Hands the oldest queued blocks to the ADC, then silence if the FIFO runs dry.
    public func produce(into dst: UnsafeMutableRawBufferPointer, blocks wanted: Int, format asked: StreamFormat) -> Int {
        guard let out = PCMLayout.memory(asked) else { return 0 }
        let blocks = min(max(wanted, 0), dst.count / out.blockBytes)
        let format = self.format
        return state.withLock { s in
            guard asked == format else {
                s.formatMismatches += 1
                out.fillSilence(dst, blocks: blocks)
                return 0
            }
            let bb = format.blockBytes
            let n = min(blocks, (s.queue.count - s.head) / bb)
            let head = s.head
            s.queue.withUnsafeBytes { q in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: q[head..<(head + n * bb)]))
            }
            s.head += n * bb
            out.fillSilence(UnsafeMutableRawBufferPointer(rebasing: dst[(n * bb)...]), blocks: blocks - n)
            s.underrunBlocks += blocks - n
            return n
        }
    }
}
