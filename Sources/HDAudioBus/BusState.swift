public import HDAudio

/// The direction a DMA engine is allocated for.
public enum StreamDirection: String, Sendable, Hashable, CaseIterable {
    /// A render (output) stream: AllocateRenderDmaEngine.
    case render
    /// A capture (input) stream: AllocateCaptureDmaEngine.
    case capture
}

/// The link bandwidth one engine holds, per the reference's bandwidth Decision.
struct LinkCharge: Hashable, Sendable {
    /// Bits per frame charged to each of SDO0 ... SDO(sdoLines - 1) (render).
    var sdoBitsPerLine = 0
    /// Lines charged (1 unstriped, 2 or 4 striped; 0 for capture).
    var sdoLines = 0
    /// The SDI line charged (capture).
    var sdiLine = 0
    /// Bits per frame charged to the SDI line (capture; 0 for render).
    var sdiBits = 0
}

/// A buffer a DMA engine holds.
enum EngineBuffer: Sendable {
    /// AllocateDmaBuffer (notifications 0) or AllocateDmaBufferWithNotification (1 or 2).
    case dma(DmaBufferRecord)
    /// AllocateContiguousDmaBuffer, set up by SetupDmaEngineWithBdl or not yet.
    case contiguous(ContiguousRecord)

    /// Every page the buffer holds (data and BDL).
    var allPages: [UInt64] {
        switch self {
        case .dma(let r): r.mdl.pages + [r.bdlPage]
        case .contiguous(let r): r.dataPages + [r.bdlPage] + (r.checkedBdlPage.map { [$0] } ?? [])
        }
    }
}

/// A bus-built buffer and its BDL.
struct DmaBufferRecord: Sendable {
    var mdl: MemoryDescriptorList
    var bdlPage: UInt64
    var notifications: Int
    var entryCount: Int
}

/// A BDL-interface buffer.
struct ContiguousRecord: Sendable {
    var dataPages: [UInt64]
    var bdlPage: UInt64
    var setup: BdlSetupRecord?
    /// The bus's own copy of the BDL that SetupDmaEngineWithBdl checked; the engine is
    /// programmed with this page, never with the client's, so rewriting the client's BDL
    /// after the check changes nothing the controller fetches.
    var checkedBdlPage: UInt64?
}

/// What SetupDmaEngineWithBdl programmed.
struct BdlSetupRecord: Sendable {
    var bufferLength: UInt32
    var lvi: UInt16
    var isr: BdlInterruptHandler
    var context: UInt
}

/// One allocated engine.
struct EngineAllocation: Sendable {
    var client: UInt32
    var generation: UInt32
    var direction: StreamDirection
    var tag: UInt8
    var format: StreamFormat
    var converterFormat: ConverterFormat
    var stripeLines: Int
    var charge: LinkCharge
    var state: StreamState = .reset
    var buffer: EngineBuffer?
    var events: [NotificationEvent] = []
    /// V3 notification callbacks (RegisterNotificationCallback), called once per IOC.
    var callbacks: [NotificationCallbackRegistration] = []
    /// A Reset whose SRST handshake timed out left the engine made safe but unprogrammed
    /// (hardware possibly compromised): it may not run until a Reset succeeds.
    var needsReset = false
    /// The engine has stayed in reset since the SRST handshake of its allocation: the bus
    /// has written nothing to it since but SDnCTL bits 23:16 (tag, stripe, DIR), it has
    /// had no buffer and never left the Reset state. Its registers are then exactly what
    /// that handshake left (see `HDAudioBus.allocateDmaBuffer`), so the buffer routines need
    /// not repeat the handshake. Cleared as soon as a buffer is programmed.
    var inResetSinceAllocation = false

    /// Whether the engine has a buffer programmed that it can run from.
    var hasRunnableBuffer: Bool {
        switch buffer {
        case .dma?: true
        case .contiguous(let r)?: r.setup != nil
        case nil: false
        }
    }
}

/// One stream descriptor of the controller.
struct EngineSlot: Sendable {
    let index: Int
    let kind: EngineKind
    var allocation: EngineAllocation?
    /// The generation of the last handle issued for this slot (0: none yet). Generations
    /// only grow: a slot that has issued the last one (`DmaEngineHandle.maxGeneration`) is
    /// retired for the life of the bus, so no freed handle can ever become valid again.
    var lastGeneration: UInt32 = 0

    /// Free, and not retired.
    var isAvailable: Bool { allocation == nil && lastGeneration < DmaEngineHandle.maxGeneration }
}

/// Where the ISR sends a stream's interrupt.
enum InterruptTarget: Sendable {
    /// A BDL-interface client's ISR and context.
    case bdl(BdlInterruptHandler, UInt)
    /// V2 notification events signalled, and V3 callbacks called, once per IOC.
    case notify([NotificationEvent], [NotificationCallbackRegistration])
}

/// Everything the bus lock protects.
struct BusState: Sendable {
    var engines: [EngineSlot]
    var sdoUsed: [Int]
    var sdiUsed: [Int]
    var tagsInUse: [StreamDirection: UInt16] = [.render: 0, .capture: 0]
    var nextClient: UInt32 = 1
    var openClients: [UInt32: InterfaceKind] = [:]
    var codecMask: UInt16
    /// Clients whose close was requested above PASSIVE_LEVEL and is not carried out yet:
    /// their handles are already invalid.
    var closingClients: Set<UInt32> = []

    /// Validates a handle for a client: STATUS_INVALID_HANDLE unless it names an engine
    /// this client holds now, under the generation it was issued with, and the client is
    /// not closing.
    func index(of handle: DmaEngineHandle, client: UInt32) throws(NTStatus) -> Int {
        let slot = handle.slot
        guard handle.client == client, !closingClients.contains(client), slot < engines.count,
              let a = engines[slot].allocation, a.client == client, a.generation == handle.generation
        else { throw .invalidHandle }
        return slot
    }
}

/// The DDI version an interface was opened with.
public enum InterfaceKind: String, Sendable, Hashable, CaseIterable {
    /// HDAUDIO_BUS_INTERFACE.
    case base
    /// HDAUDIO_BUS_INTERFACE_V2.
    case v2
    /// HDAUDIO_BUS_INTERFACE_BDL.
    case bdl
    /// HDAUDIO_BUS_INTERFACE_V3.
    case v3
}

/// The use of one link resource against its budget.
public struct BudgetUse: Hashable, Sendable {
    /// Bits per frame (lines) or words per frame (FIFO) in use.
    public var used: Int
    /// The budget.
    public var budget: Int

    /// A use against a budget.
    public init(used: Int, budget: Int) {
        self.used = used
        self.budget = budget
    }
}

/// A snapshot of the bus's resources, for tools and invariant checks.
public struct BusResources: Hashable, Sendable {
    /// Each SDO line: bits per frame charged and the OUTPAY budget.
    public var sdo: [BudgetUse]
    /// Each SDI line (0 to 14): bits per frame charged and the INPAY budget.
    public var sdi: [BudgetUse]
    /// Stream tags in use per direction.
    public var tags: [StreamDirection: Set<UInt8>]
    /// Allocated engines by descriptor index: direction, tag, format.
    public var engines: [EngineSummary]
}

/// One allocated engine, as tools show it.
public struct EngineSummary: Hashable, Sendable {
    /// Descriptor index.
    public var index: Int
    /// Input, output or bidirectional.
    public var kind: EngineKind
    /// Render or capture.
    public var direction: StreamDirection
    /// The stream tag.
    public var tag: UInt8
    /// The format.
    public var format: StreamFormat
    /// SDO lines it is striped over (1 when unstriped; 0 for capture).
    public var stripeLines: Int
    /// Bits per frame charged to each SDO line it uses, or to its SDI line.
    public var bitsPerLine: Int
    /// The SDI line charged (capture), else nil.
    public var sdiLine: Int?
    /// The software stream state.
    public var state: StreamState
    /// Whether it holds a buffer.
    public var hasBuffer: Bool
}
