import HDAudio

/// The virtual HD Audio controller: a register-accurate MMIO register file, stream DMA
/// engines, the link clock and the codecs attached to the link.
///
/// Time moves only in `advance(frames:)`, in batches from event to event; the result is
/// identical, frame for frame, to stepping one frame at a time. Not Sendable: callers
/// serialise access (the bus's platform wraps the controller in a lock).
///
/// Register access follows QEMU intel-hda's shape: ONE table of registers (offset, width,
/// reset value, writable mask, write-1-to-clear mask, role), ONE write path (mask, clear,
/// then the role's side effect) and ONE reset loop. Accesses of 1, 2 or 4 bytes may start
/// at any offset: each byte reaches the register that holds it, so a byte write at
/// SDnCTL + 3 reaches SDnSTS and a 32-bit write at SDnCTL writes CTL and STS together
/// (STS first, so a write that clears old errors and sets RUN keeps a new DESE).
/// Unimplemented offsets read 0 and ignore writes.
///
/// Stored state is marked `@exclusivity(unchecked)`: the controller is not Sendable and every
/// caller serialises access, so an overlapping access cannot come from another thread, and
/// the run-time checks cost about a quarter of the real-path DMA time (`azalia bench`).
public final class HDAController {
    /// The kind of controller.
    public let profile: ControllerProfile
    /// Guest RAM, the only memory DMA reaches.
    public let memory: GuestMemory
    /// Injected faults; may be changed at any time.
    @exclusivity(unchecked) public var faults: FaultInjection
    /// Called whenever the interrupt line changes (true = asserted). Runs inside the
    /// controller call that caused it: it must not call back into the controller.
    public var interruptLineChanged: ((Bool) -> Void)?

    /// The alignment the BDL walk demands of every buffer address: the specification's 128
    /// bytes by default (a misaligned buffer is a descriptor error). See `BDLAlignment.swift`
    /// for why the guest bridge relaxes it.
    public var bufferAlignment: UInt64 = UInt64(BDLEntry.alignment)

    /// Link time in frames since power-on.
    @exclusivity(unchecked) public internal(set) var frame: UInt64 = 0
    /// The interrupt line: GIE and (an enabled SIS, or CIS with CIE).
    @exclusivity(unchecked) public internal(set) var interruptAsserted = false
    /// Interrupt causes raised so far: counts every stream status bit (BCIS, FIFOE, DESE)
    /// that became set while its enable (IOCE, FEIE, DEIE) is on, and every time CIS went
    /// from 0 to 1. A cause raised while the same bit is still set is merged, as in hardware.
    @exclusivity(unchecked) public internal(set) var interruptCausesRaised: UInt64 = 0

    /// The stream causes set and enabled at the last `updateInterrupts`: for BCIS, FIFOE
    /// and DESE one bit per engine (GCAP allows at most 60 engines). Plain words, not an
    /// array, so the check costs nothing measurable on the register-write path.
    @exclusivity(unchecked) var enabledCauses: (completion: UInt64, fifo: UInt64, descriptor: UInt64) = (0, 0, 0)
    /// CIS at the last `updateInterrupts`.
    @exclusivity(unchecked) var lastCIS = false

    let table: RegisterTable
    @exclusivity(unchecked) var values: [UInt32]
    let resetValues: [UInt32]
    let engines: [StreamEngine]
    /// The engines' next events, earliest first (see `EventSchedule`).
    let schedule: EventSchedule
    let layout: EngineLayout

    /// GCTL.CRST reads 0.
    @exclusivity(unchecked) var inReset = true
    @exclusivity(unchecked) var crstExitAt: UInt64?
    @exclusivity(unchecked) var crstRequested = false
    @exclusivity(unchecked) var codecWakeAt: UInt64?
    @exclusivity(unchecked) var codecsAwake = false
    @exclusivity(unchecked) var codecs: [(any LinkCodec)?] {
        didSet { inputFollowsOutput = codecs.contains { $0?.linkInputFollowsOutput ?? false } }
    }
    /// Some attached codec may transmit what it received (`LinkCodec.linkInputFollowsOutput`):
    /// output engines then catch up before any input engine runs.
    @exclusivity(unchecked) var inputFollowsOutput = false
    /// BDLs fetched (RUN accepted) so far: part of the aliasing check's key.
    @exclusivity(unchecked) var bdlFetches: UInt64 = 0
    /// The last aliasing check (`dmaAliased`): its key and its answer.
    @exclusivity(unchecked) var aliasing: (key: AliasingKey, aliased: Bool)?

    /// Bits carried per SDO line.
    @exclusivity(unchecked) public internal(set) var sdoBitsCarried: [UInt64]
    /// Input-stream bits carried per SDI line (codec address).
    @exclusivity(unchecked) public internal(set) var sdiBitsCarried: [UInt64]
    /// Position-buffer writes that failed because the buffer is not RAM.
    @exclusivity(unchecked) public internal(set) var positionBufferErrors: UInt64 = 0

    @exclusivity(unchecked) var corb = CommandRings()

    /// A controller of `profile` over `memory`, powered on and held in reset (CRST = 0).
    public init(profile: ControllerProfile = .default, memory: GuestMemory, faults: FaultInjection = .init()) {
        self.profile = profile
        self.memory = memory
        self.faults = faults
        table = RegisterTable(profile: profile)
        resetValues = table.specs.map(\.reset)
        values = resetValues
        layout = profile.layout
        let schedule = EventSchedule(engines: profile.layout.count)
        self.schedule = schedule
        engines = (0..<profile.layout.count).map { StreamEngine(index: $0, kind: profile.layout.kind(of: $0), schedule: schedule) }
        codecs = Array(repeating: nil, count: profile.sdiLines)
        sdoBitsCarried = Array(repeating: 0, count: profile.sdoLines)
        sdiBitsCarried = Array(repeating: 0, count: profile.sdiLines)
    }
}

extension UInt64 {
    /// `self + other`, saturating at `UInt64.max`: a latency that would end past the end of
    /// 64-bit link time never completes instead of trapping.
    @inline(__always) func addingSaturated(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
