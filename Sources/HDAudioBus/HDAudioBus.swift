public import HDAudio
import Synchronization

/// The HD Audio bus driver: the hdaudio.h DMA DDI over a controller it knows only
/// through `HDAPlatform` (registers, DMA pages, a stall, an interrupt line, the IRQL).
///
/// Start it with `init(platform:)`, then open one interface per function driver with
/// `openInterface(codecAddress:version:)`. Thread-safe: every DDI routine runs under one
/// bus lock. **Deadlock rule**: the bus stalls (and so may see interrupts) while it holds
/// that lock, so its ISR never takes it: what the ISR needs (where each stream's
/// interrupt goes) lives behind a separate small lock, and the DISPATCH-level work the
/// ISR queues (signalling notification events, running their callbacks) is deferred
/// until the bus lock is free: the thread that holds it runs the queue when it releases.
///
/// **Lock order** (every lock is a `PThreadMutex`, which ThreadSanitizer sees): `state` (the
/// bus lock) first, then `commands` (the CORB/RIRB path), then the leaf locks
/// `interruptTargets`, `pendingCloses` and `deferredWork`, each held only for a copy or an
/// append and never while another leaf is taken. A thread holding a later lock never takes an
/// earlier one (the platform's own locks, taken by register, memory and timer calls, come
/// after all of these): the ISR, which may run inside a stall with `state` held, takes only
/// `commands` and the leaves; work that needs `state` from a callback is deferred.
public final class HDAudioBus: Sendable {
    /// The platform the bus drives.
    public let platform: any HDAPlatform
    /// What the bus read from the controller at start.
    public let configuration: BusConfiguration
    /// The size rounding and BDL layout of DMA buffers, for the platform's page size.
    public let bufferLayout: DmaBufferLayout

    let state: PThreadMutex<BusState>
    let interruptTargets: PThreadMutex<[Int: InterruptTarget]>
    let deferredWork = CountedQueue<@Sendable () -> Void>()
    let pendingCloses = CountedQueue<UInt32>()
    let commands = PThreadMutex(CommandState())
    let wallClock = PThreadMutex(WallClockExtension())
    /// What the bus last wrote to INTCTL. Only the bus writes INTCTL (the controller changes
    /// it on CRST alone, which the bus performs before its first write here), so the
    /// register always holds this value and a change needs a write only, no read first.
    /// Written under the bus lock (`setStreamInterrupt`), hence relaxed.
    let interruptControl = Atomic<UInt32>(0)

    /// The bus driver's version, reported as DriverVersion.
    public static let driverVersion: UInt16 = 0x0100
    /// Notification events one engine can hold (RegisterNotificationEvent).
    public static let maxNotificationEvents = 4
    /// SRST and RUN handshakes: the poll interval and the limit per phase, in microseconds
    /// of link time. **Decision**: at most 300 us per phase, else STATUS_DEVICE_NOT_READY.
    public static let handshakePollMicroseconds: UInt64 = 3
    /// The per-phase limit of a stream handshake (300 us).
    public static let handshakeLimitMicroseconds: UInt64 = 300
    /// How long the bus waits for CRST to read back (10 ms of link time).
    public static let controllerResetLimitMicroseconds: UInt64 = 10_000
    /// Stream tags run 1 to 15 in each direction (0 is reserved).
    public static let tagRange: ClosedRange<UInt8> = 1...15
    /// SDI lines a controller can have (STATESTS bits 14:0).
    public static let maxSDILines = SDILines.maximum

    /// Starts the bus: resets the controller (CRST 0 then 1, polled with stalls), waits
    /// for codecs to wake, reads GCAP, VMAJ/VMIN, OUTPAY, INPAY, OUTSTRMPAY, INSTRMPAY and
    /// STATESTS, builds the engine table from them, sets up the DMA position buffer and the
    /// CORB/RIRB rings, enables the global and controller interrupts and connects its ISR. A controller that does not
    /// leave reset is STATUS_DEVICE_NOT_READY; no DMA memory left is
    /// STATUS_INSUFFICIENT_RESOURCES.
    /// A platform whose page size is not a positive multiple of 128 bytes is
    /// STATUS_UNSUCCESSFUL (BDL entries end at page boundaries and must stay aligned).
    public init(platform: any HDAPlatform) throws(NTStatus) {
        guard let layout = DmaBufferLayout(pageSize: platform.pageSize) else { throw .unsuccessful }
        self.platform = platform
        bufferLayout = layout
        configuration = try HDAudioBus.resetAndProbe(platform)
        let c = configuration
        state = PThreadMutex(BusState(
            engines: (0..<c.layout.count).map { EngineSlot(index: $0, kind: c.layout.kind(of: $0), allocation: nil) },
            sdoUsed: Array(repeating: 0, count: c.gcap.sdoLines),
            sdiUsed: Array(repeating: 0, count: HDAudioBus.maxSDILines),
            codecMask: c.codecMask))
        interruptTargets = PThreadMutex([:])
        platform.connectInterrupt(
            { [weak self] in self?.serviceInterrupt() ?? false },
            deferred: { [weak self] in self?.runDeferredSignals() })
        interruptControl.store(InterruptBits.global | InterruptBits.controller, ordering: .relaxed)
        platform.write32(HDARegister.intctl, InterruptBits.global | InterruptBits.controller)
    }
}
