import HDAudio

/// The SRST handshake of one descriptor.
enum SRSTPhase: Equatable {
    /// Not in reset; SRST reads 0.
    case idle
    /// SRST written 1; reads 1 (and resets the descriptor) at the given frame.
    case latchPending(UInt64)
    /// SRST written 1 under the never-latches fault: stays 0 forever.
    case latchNever
    /// In reset; SRST reads 1.
    case latched
    /// SRST written 0; reads 0 at the given frame.
    case clearPending(UInt64)
    /// SRST written 0 under the never-clears fault: stays 1 forever.
    case clearNever

    /// SRST reads 1 and the descriptor is held in reset.
    var inReset: Bool {
        switch self {
        case .latched, .clearPending, .clearNever: true
        default: false
        }
    }

    /// The frame at which a pending phase completes.
    var due: UInt64? {
        switch self {
        case .latchPending(let f), .clearPending(let f): f
        default: nil
        }
    }
}

/// Counters of one stream engine, for tests and the CLI.
public struct EngineStatistics: Sendable, Hashable {
    /// Sample bytes moved between guest memory and the link.
    public var bytesMoved: UInt64 = 0
    /// Sample blocks moved.
    public var blocksMoved: UInt64 = 0
    /// BDL entries with IOC that completed (each set BCIS).
    public var completions: UInt64 = 0
    /// Descriptor errors (DESE) raised.
    public var descriptorErrors: UInt64 = 0
    /// FIFO errors (FIFOE) raised.
    public var fifoErrors: UInt64 = 0
    /// Times RUN was accepted (the BDL validated).
    public var runs: UInt64 = 0
    /// Input blocks for which no codec sent the tag, so silence was written.
    public var silentBlocks: UInt64 = 0
}

/// One stream engine's DMA state. Everything is preallocated when the controller is
/// built: running moves no heap memory.
/// Its state is reached only through its controller, so exclusivity is not checked at run
/// time (see `HDAController`).
final class StreamEngine {
    let index: Int
    let kind: EngineKind
    /// The controller's schedule, told of every change to this engine's next event.
    let schedule: EventSchedule

    @exclusivity(unchecked) var srst: SRSTPhase = .idle { didSet { if srst != oldValue { reschedule() } } }
    /// RUN was accepted (BDL valid).
    @exclusivity(unchecked) var running = false
    /// RUN was accepted while the fifoNeverReady fault held this engine: RUN reads 1, FIFORDY
    /// never comes, and the engine does not move until RUN is cleared.
    @exclusivity(unchecked) var awaitingFifoReady = false
    /// Moving samples: running, SSYNC clear.
    @exclusivity(unchecked) var active = false {
        didSet {
            guard active != oldValue else { return }
            if active { schedule.active |= 1 &<< UInt64(index) } else { schedule.active &= ~(1 &<< UInt64(index)) }
            reschedule()
        }
    }
    /// The direction latched at RUN.
    @exclusivity(unchecked) var output: Bool
    /// The frame at which the current active period began (cadence origin).
    @exclusivity(unchecked) var runStart: UInt64 = 0
    /// Blocks moved since `runStart`.
    @exclusivity(unchecked) var blocksDone: UInt64 = 0
    /// The absolute frame at which the next batch must end for this engine.
    @exclusivity(unchecked) var nextEvent: UInt64 = .max { didSet { if active && nextEvent != oldValue { reschedule() } } }
    /// The frame up to which the engine has moved (while active): an engine runs only when
    /// its own event is due, or when `advance` returns.
    @exclusivity(unchecked) var syncedTo: UInt64 = 0
    /// FIFOE to raise in the first frame of this run.
    @exclusivity(unchecked) var fifoErrorPending = false

    // Format, latched at RUN.
    @exclusivity(unchecked) var cadence = LinkCadence(RateEncoding(base: .hz48000, multiplier: 1, divisor: 1))
    @exclusivity(unchecked) var format = ConverterFormat(rawValue: 0)
    @exclusivity(unchecked) var blockBytes = 1
    @exclusivity(unchecked) var bitsPerBlock = 8
    @exclusivity(unchecked) var tag: UInt8 = 0
    @exclusivity(unchecked) var stripeLines = 1

    // The BDL, fetched at RUN: at most 256 entries, never more than LVI + 1.
    @exclusivity(unchecked) var entryCount = 0
    @exclusivity(unchecked) var entryLength = [UInt64](repeating: 0, count: BDLEntry.maxEntries)
    @exclusivity(unchecked) var entryIOC = [Bool](repeating: false, count: BDLEntry.maxEntries)
    @exclusivity(unchecked) var entryHost = [UnsafeMutableRawPointer?](repeating: nil, count: BDLEntry.maxEntries)
    @exclusivity(unchecked) var cbl: UInt64 = 0

    // Position.
    @exclusivity(unchecked) var entry = 0
    @exclusivity(unchecked) var entryOffset: UInt64 = 0
    @exclusivity(unchecked) var lpib: UInt64 = 0

    /// One sample block (at most 16 channels x 4 bytes) for blocks that straddle entries.
    let scratch: UnsafeMutableRawPointer
    /// Output: bytes of a straddling block gathered so far.
    @exclusivity(unchecked) var gathered = 0
    /// Input: bytes of a straddling block still to scatter from `scratch`.
    @exclusivity(unchecked) var scatterLeft = 0

    @exclusivity(unchecked) var stats = EngineStatistics()

    init(index: Int, kind: EngineKind, schedule: EventSchedule) {
        self.index = index
        self.kind = kind
        self.schedule = schedule
        output = kind == .output
        scratch = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
    }

    deinit { scratch.deallocate() }

    /// The frame this engine next needs the controller: its next DMA event while it moves,
    /// or the end of a pending SRST latency, whichever comes first.
    var scheduledFrame: UInt64 { min(active ? nextEvent : .max, srst.due ?? .max) }

    /// Tells the schedule this engine's `scheduledFrame`.
    private func reschedule() { schedule.update(index, to: scheduledFrame) }

    /// Back to the power-on state (controller reset or SRST), keeping the counters.
    func resetState() {
        srst = .idle
        running = false
        awaitingFifoReady = false
        active = false
        output = kind == .output
        nextEvent = .max
        fifoErrorPending = false
        entryCount = 0
        entry = 0
        entryOffset = 0
        lpib = 0
        cbl = 0
        gathered = 0
        scatterLeft = 0
    }

    /// Sets `entry` and `entryOffset` from `lpib` (bounded by the fetched entries).
    func locatePosition() {
        var remaining = lpib
        entry = 0
        while entry < entryCount - 1 && remaining >= entryLength[entry] {
            remaining -= entryLength[entry]
            entry += 1
        }
        entryOffset = remaining
    }

    /// Computes `nextEvent` from the current frame: the end of the frame in which the
    /// current entry (or the cyclic buffer) ends, or the first frame when a FIFO error is due.
    func computeNextEvent(now: UInt64) {
        guard active else { nextEvent = .max; return }
        // Saturating: an event past the end of 64-bit time never comes.
        if fifoErrorPending { nextEvent = now.addingSaturated(1); return }
        let remaining = min(entryLength[entry] - entryOffset, cbl - lpib)
        let blocks = (remaining + UInt64(blockBytes) - 1) / UInt64(blockBytes)
        // Called when the engine stands at `now` (it has moved the cadence's blocks before
        // it: blocksDone), so the target count needs no cadence lookup.
        nextEvent = runStart.addingSaturated(cadence.frame(reaching: blocksDone + blocks, notBefore: now - runStart))
    }
}
