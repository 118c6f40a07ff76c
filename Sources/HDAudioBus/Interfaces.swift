public import HDAudio
import Synchronization

/// One client's connection to the bus: its id, its codec address and its DDI version.
/// Closing it (explicitly, or when the last interface value holding it goes away) frees
/// whatever the client still holds: engines are stopped and reset, buffers, engines and
/// events freed.
///
/// **Decision**: the connection holds the bus weakly. A client's callback (a BDL ISR, a
/// notification callback, an event callback, a verb completion) naturally captures its own
/// interface, and the bus holds those callbacks; a strong reference back to the bus would
/// make a cycle that keeps the bus, its platform and every such client alive forever. So
/// the bus lives as long as its owner (`AzaliaSystem`) holds it: keep the owner alive while
/// interfaces are in use. Once the bus is gone every routine that needs it is
/// STATUS_INVALID_DEVICE_REQUEST. Closing a client drops every callback the bus holds for
/// it, so an explicit close breaks such a cycle at once.
public final class BusConnection: Sendable {
    private weak let owner: HDAudioBus?
    let client: UInt32
    /// The codec address the interface was opened for.
    public let codecAddress: Int
    /// The DDI version the interface was opened with.
    public let kind: InterfaceKind
    private let closed = Atomic<Bool>(false)

    init(bus: HDAudioBus, client: UInt32, codecAddress: Int, kind: InterfaceKind) {
        owner = bus
        self.client = client
        self.codecAddress = codecAddress
        self.kind = kind
    }

    /// The bus, while it exists; STATUS_INVALID_DEVICE_REQUEST once its owner released it.
    var bus: HDAudioBus {
        get throws(NTStatus) {
            guard let owner else { throw .invalidDeviceRequest }
            return owner
        }
    }

    /// Closes the connection (idempotent).
    func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) { owner?.closeClient(client) }
    }

    deinit { close() }
}

/// A DDI version: `.base`, `.v2`, `.v3` or `.bdl`, each naming the interface type it opens.
public protocol InterfaceVersion: Sendable {
    /// The interface type of this version.
    associatedtype Interface: HDAudioBusInterface
    /// The version's kind.
    var kind: InterfaceKind { get }
    /// Wraps a connection in the interface type (used by `HDAudioBus.openInterface`).
    func makeInterface(_ connection: BusConnection) -> Interface
}

/// HDAUDIO_BUS_INTERFACE.
public struct BaseVersion: InterfaceVersion {
    /// `.base`.
    public var kind: InterfaceKind { .base }
    /// Wraps a connection.
    public func makeInterface(_ connection: BusConnection) -> HDAudioBaseInterface { HDAudioBaseInterface(connection: connection) }
}

/// HDAUDIO_BUS_INTERFACE_V2.
public struct V2Version: InterfaceVersion {
    /// `.v2`.
    public var kind: InterfaceKind { .v2 }
    /// Wraps a connection.
    public func makeInterface(_ connection: BusConnection) -> HDAudioV2Interface { HDAudioV2Interface(connection: connection) }
}

/// HDAUDIO_BUS_INTERFACE_BDL.
public struct BDLVersion: InterfaceVersion {
    /// `.bdl`.
    public var kind: InterfaceKind { .bdl }
    /// Wraps a connection.
    public func makeInterface(_ connection: BusConnection) -> HDAudioBDLInterface { HDAudioBDLInterface(connection: connection) }
}

extension InterfaceVersion where Self == BaseVersion {
    /// HDAUDIO_BUS_INTERFACE.
    public static var base: BaseVersion { BaseVersion() }
}

extension InterfaceVersion where Self == V2Version {
    /// HDAUDIO_BUS_INTERFACE_V2.
    public static var v2: V2Version { V2Version() }
}

extension InterfaceVersion where Self == BDLVersion {
    /// HDAUDIO_BUS_INTERFACE_BDL.
    public static var bdl: BDLVersion { BDLVersion() }
}

/// The routines every DDI version offers (reference section 4 table, first row).
///
/// What every routine shares: a handle that this interface's client was not given, or
/// that was freed, is STATUS_INVALID_HANDLE (checked before anything else about the
/// engine); a routine called above the IRQL it allows is STATUS_UNSUCCESSFUL. After
/// `close()`, routines that take a handle are STATUS_INVALID_HANDLE and the allocations,
/// verb transfers, event callbacks and GetResourceInformation are
/// STATUS_INVALID_DEVICE_REQUEST (GetWallClockRegister and GetDeviceInformation, which
/// describe the controller, still answer). A routine that fails changes nothing unless
/// its comment says otherwise. Stream handshakes (SRST, RUN) are polled for at most 300 us
/// of link time per phase; one that does not complete is STATUS_DEVICE_NOT_READY.
public protocol HDAudioBusInterface: Sendable {
    /// The connection behind the interface.
    var connection: BusConnection { get }
}

extension HDAudioBusInterface {
    /// The codec address the interface was opened for.
    public var codecAddress: Int { connection.codecAddress }

    /// Closes the interface: stops and resets the client's engines and frees its buffers,
    /// engines and events. Later calls fail (INVALID_HANDLE, or INVALID_DEVICE_REQUEST
    /// for allocations). Called above PASSIVE_LEVEL (inside a BDL ISR, a callback or an
    /// event), the close is deferred to the end of the next bus routine that runs at
    /// PASSIVE_LEVEL; it never crashes or stalls at DIRQL.
    public func close() { connection.close() }

    /// AllocateRenderDmaEngine (PASSIVE_LEVEL): reserves the lowest free output engine (or,
    /// when none is free, the lowest free bidirectional one, with DIR = output), a stream
    /// tag (1 to 15, per direction) and the format's SDO bandwidth. `stripe` on a
    /// controller with 2 or 4 SDO lines stripes over all of them; with one line the engine
    /// is unstriped. The engine is left in reset with no buffer.
    ///
    /// Checked in this order: IRQL (UNSUCCESSFUL); the format (INVALID_PARAMETER); the
    /// engine's FIFO (BUFFER_TOO_SMALL); a free engine, a free tag, the SDO budget
    /// (INSUFFICIENT_RESOURCES). An SRST handshake that does not complete releases
    /// everything and is DEVICE_NOT_READY.
    public func allocateRenderDmaEngine(format: StreamFormat, stripe: Bool) throws(NTStatus) -> DmaEngineAllocation {
        try connection.bus.allocateDmaEngine(client: connection.client, direction: .render, format: format, stripe: stripe, codecAddress: 0)
    }

    /// AllocateCaptureDmaEngine (PASSIVE_LEVEL): reserves the lowest free input engine (or
    /// a bidirectional one, with DIR = input), a capture tag (1 to 15) and bandwidth on the
    /// SDI line of `codecAddress`. The engine is left in reset with no buffer.
    ///
    /// Checked in this order: IRQL (UNSUCCESSFUL); the format, and `codecAddress` naming an
    /// SDI line with a codec present (INVALID_PARAMETER); the FIFO (BUFFER_TOO_SMALL); a
    /// free engine, a free tag, the SDI budget (INSUFFICIENT_RESOURCES); the SRST handshake
    /// (DEVICE_NOT_READY, everything released).
    public func allocateCaptureDmaEngine(codecAddress: Int, format: StreamFormat) throws(NTStatus) -> DmaEngineAllocation {
        try connection.bus.allocateDmaEngine(client: connection.client, direction: .capture, format: format, stripe: false, codecAddress: codecAddress)
    }

    /// ChangeBandwidthAllocation (PASSIVE_LEVEL): a new format for an engine in reset with
    /// no buffer (else INVALID_DEVICE_REQUEST). The FIFO and the line budgets are checked
    /// again for the new format with the engine's own reservation released
    /// (INVALID_PARAMETER, BUFFER_TOO_SMALL, INSUFFICIENT_RESOURCES as at allocation); on any
    /// failure the old format and reservation stay exactly as they were.
    public func changeBandwidthAllocation(_ handle: DmaEngineHandle, format: StreamFormat) throws(NTStatus) -> ConverterFormat {
        try connection.bus.changeBandwidthAllocation(client: connection.client, handle: handle, format: format)
    }

    /// FreeDmaEngine (up to DISPATCH_LEVEL): frees an engine and returns its tag and
    /// bandwidth. INVALID_DEVICE_REQUEST if the engine is not in reset or still holds a
    /// buffer of any kind.
    public func freeDmaEngine(_ handle: DmaEngineHandle) throws(NTStatus) {
        try connection.bus.freeDmaEngine(client: connection.client, handle: handle)
    }

    /// SetDmaEngineState (up to DISPATCH_LEVEL): moves every engine named to `state`,
    /// together. No handles is INVALID_PARAMETER. **Decision**: every handle is validated
    /// (INVALID_HANDLE) and every transition checked (Run to Reset, Reset to Run, and any
    /// state but Reset without a buffer are INVALID_DEVICE_REQUEST) before any engine is
    /// touched. Then Run and Stop start or stop all the engines on the same frame (SSYNC);
    /// Reset performs the SRST handshake and programs the buffer again.
    ///
    /// A handshake that does not complete is DEVICE_NOT_READY: a failed Run leaves the
    /// engines stopped; a failed Stop leaves an engine whose RUN still reads 1 in Run, so a
    /// retry works; a failed Reset leaves the engine stopped and unprogrammed, and Run is
    /// DEVICE_NOT_READY until a Reset succeeds.
    public func setDmaEngineState(_ state: StreamState, handles: [DmaEngineHandle]) throws(NTStatus) {
        try connection.bus.setDmaEngineState(client: connection.client, state: state, handles: handles)
    }

    /// GetWallClockRegister (up to DISPATCH_LEVEL): a live read-only view of WALCLK (read
    /// through its alias on its own page).
    public func getWallClockRegister() throws(NTStatus) -> RegisterView {
        try connection.bus.getWallClockRegister()
    }

    /// GetLinkPositionRegister (up to DISPATCH_LEVEL): a live read-only view of the engine's
    /// entry in the DMA position buffer (its LPIB as the controller last wrote it).
    public func getLinkPositionRegister(_ handle: DmaEngineHandle) throws(NTStatus) -> RegisterView {
        try connection.bus.getLinkPositionRegister(client: connection.client, handle: handle)
    }

    /// TransferCodecVerbs, synchronous (no callback; PASSIVE_LEVEL): sends the verbs to
    /// the interface's codec through the CORB and stalls, polling the RIRB, until every
    /// verb has its response or has timed out (IsValid = 0 in its response); returns them
    /// in order. The bus sets each verb's codec address (bits 31:28) to the interface's
    /// codec. An empty list is INVALID_PARAMETER.
    public func transferCodecVerbs(_ transfers: [CodecTransfer]) throws(NTStatus) -> [CodecTransfer] {
        try connection.bus.transferVerbs(client: connection.client, codecAddress: connection.codecAddress, transfers,
                                         completion: nil, context: 0)
    }

    /// TransferCodecVerbs, asynchronous (up to DISPATCH_LEVEL): queues the verbs and returns
    /// at once; `callback` runs at DISPATCH_LEVEL with the transfers and their responses
    /// once they are all in (as link time moves; a codec that does not answer times out
    /// with IsValid = 0 on the platform's timer). An empty list is INVALID_PARAMETER; more
    /// than `HDAudioBus.maxAsyncVerbsPerClient` verbs of this client's asynchronous
    /// transfers outstanding is INSUFFICIENT_RESOURCES. Closing the client drops its
    /// outstanding transfers: their callbacks never run.
    public func transferCodecVerbs(_ transfers: [CodecTransfer], callback: @escaping CodecTransferCompletion,
                                   context: UInt) throws(NTStatus) {
        _ = try connection.bus.transferVerbs(client: connection.client, codecAddress: connection.codecAddress, transfers,
                                             completion: callback, context: context)
    }

    /// RegisterEventCallback (PASSIVE_LEVEL): a callback for the codec's unsolicited
    /// responses, run at DISPATCH_LEVEL; returns the tag (0 to 63) to program into the codec
    /// (SET_UNSOLICITED_ENABLE). All 64 tags of the codec in use is INSUFFICIENT_RESOURCES.
    public func registerEventCallback(_ routine: @escaping UnsolicitedResponseHandler, context: UInt) throws(NTStatus) -> UInt8 {
        try connection.bus.registerCallback(client: connection.client, codecAddress: connection.codecAddress,
                                            handler: routine, context: context)
    }

    /// UnregisterEventCallback (PASSIVE_LEVEL): frees a tag RegisterEventCallback returned;
    /// a tag this client did not register on its codec is INVALID_PARAMETER.
    public func unregisterEventCallback(tag: UInt8) throws(NTStatus) {
        try connection.bus.unregisterCallback(client: connection.client, codecAddress: connection.codecAddress, tag: tag)
    }

    /// GetResourceInformation (PASSIVE_LEVEL): the codec address and the function group
    /// start node, read from the codec's root node (GET_PARAMETER Subordinate Node Count).
    /// A codec that does not answer is DEVICE_NOT_READY.
    public func getResourceInformation() throws(NTStatus) -> ResourceInformation {
        try connection.bus.resourceInformation(client: connection.client, codecAddress: connection.codecAddress)
    }

    /// GetDeviceInformation (PASSIVE_LEVEL): the V2 form when `size` (the caller's Size)
    /// is at least its size, else the BASE form when `size` is at least that; smaller is
    /// INVALID_PARAMETER.
    public func getDeviceInformation(size: Int) throws(NTStatus) -> DeviceInformation {
        try connection.bus.getDeviceInformation(size: size)
    }
}

/// AllocateDmaBuffer and FreeDmaBuffer: the BASE and V2 interfaces.
public protocol DmaBufferRoutines: HDAudioBusInterface {}

extension DmaBufferRoutines {
    /// AllocateDmaBuffer (PASSIVE_LEVEL): allocates a zeroed, scattered buffer of the legal
    /// size closest to the request (the rules are `DmaBufferLayout`'s: whole sample blocks,
    /// 2 to 256 page-bounded entries, 128-byte aligned), builds its BDL with no IOC and,
    /// after an SRST handshake, programs CBL, LVI, FMT, the stream tag and the BDL address.
    /// The engine stays in reset.
    ///
    /// A request of 0 or none that fits is INVALID_PARAMETER; an engine out of reset or
    /// already holding a buffer is INVALID_DEVICE_REQUEST; memory running out is
    /// INSUFFICIENT_RESOURCES; the handshake failing is DEVICE_NOT_READY (nothing kept).
    public func allocateDmaBuffer(_ handle: DmaEngineHandle, requestedBufferSize: Int) throws(NTStatus) -> DmaBufferAllocation {
        try connection.requireKind([.base, .v2, .v3])
        let (mdl, tag, fifo) = try connection.bus.allocateDmaBuffer(client: connection.client, handle: handle, notifications: 0, requested: requestedBufferSize, withNotification: false)
        return DmaBufferAllocation(mdl: mdl, allocatedBufferSize: mdl.byteCount, streamId: tag, fifoSize: fifo)
    }

    /// FreeDmaBuffer (PASSIVE_LEVEL): frees the buffer AllocateDmaBuffer made.
    /// INVALID_DEVICE_REQUEST unless the engine is in reset with such a buffer.
    public func freeDmaBuffer(_ handle: DmaEngineHandle) throws(NTStatus) {
        try connection.requireKind([.base, .v2, .v3])
        try connection.bus.freeDmaBuffer(client: connection.client, handle: handle, withNotification: false, mdl: nil, size: nil)
    }
}

/// AllocateDmaBufferWithNotification, FreeDmaBufferWithNotification,
/// RegisterNotificationEvent and UnregisterNotificationEvent: the V2 interface.
public protocol NotificationRoutines: HDAudioBusInterface {}

extension NotificationRoutines {
    /// AllocateDmaBufferWithNotification (PASSIVE_LEVEL): like AllocateDmaBuffer, with IOC
    /// on the entry that ends the buffer and, for two notifications, on the entry that ends
    /// its first half (the midpoint is then a whole number of blocks and 128-byte aligned).
    /// A `notificationCount` other than 1 or 2 is INVALID_PARAMETER; the other statuses
    /// are AllocateDmaBuffer's. OffsetFromFirstPage is 0.
    public func allocateDmaBufferWithNotification(_ handle: DmaEngineHandle, notificationCount: Int,
                                                  requestedBufferSize: Int) throws(NTStatus) -> NotificationBufferAllocation {
        try connection.requireKind([.v2, .v3])
        let (mdl, tag, fifo) = try connection.bus.allocateDmaBuffer(client: connection.client, handle: handle, notifications: notificationCount, requested: requestedBufferSize, withNotification: true)
        return NotificationBufferAllocation(mdl: mdl, allocatedBufferSize: mdl.byteCount, offsetFromFirstPage: mdl.byteOffset, streamId: tag, fifoSize: fifo)
    }

    /// FreeDmaBufferWithNotification (PASSIVE_LEVEL): frees the buffer. `bufferMdl` and
    /// `bufferSize` must be what the allocation returned (else INVALID_PARAMETER);
    /// INVALID_DEVICE_REQUEST unless the engine is in reset with such a buffer.
    public func freeDmaBufferWithNotification(_ handle: DmaEngineHandle, bufferMdl: MemoryDescriptorList, bufferSize: Int) throws(NTStatus) {
        try connection.requireKind([.v2, .v3])
        try connection.bus.freeDmaBuffer(client: connection.client, handle: handle, withNotification: true, mdl: bufferMdl, size: bufferSize)
    }

    /// RegisterNotificationEvent (PASSIVE_LEVEL): signal `event` at every IOC of the
    /// engine's buffer (at DISPATCH_LEVEL, after the ISR). INSUFFICIENT_RESOURCES when the
    /// engine's `HDAudioBus.maxNotificationEvents` slots are full; INVALID_PARAMETER for an
    /// event already registered on the engine.
    public func registerNotificationEvent(_ handle: DmaEngineHandle, event: NotificationEvent) throws(NTStatus) {
        try connection.requireKind([.v2, .v3])
        try connection.bus.registerNotificationEvent(client: connection.client, handle: handle, event: event)
    }

    /// UnregisterNotificationEvent (PASSIVE_LEVEL): stops signalling `event`;
    /// INVALID_PARAMETER for an event that is not registered on the engine.
    public func unregisterNotificationEvent(_ handle: DmaEngineHandle, event: NotificationEvent) throws(NTStatus) {
        try connection.requireKind([.v2, .v3])
        try connection.bus.unregisterNotificationEvent(client: connection.client, handle: handle, event: event)
    }
}

/// AllocateContiguousDmaBuffer, SetupDmaEngineWithBdl and FreeContiguousDmaBuffer: the BDL interface.
public protocol BdlRoutines: HDAudioBusInterface {}

extension BdlRoutines {
    /// AllocateContiguousDmaBuffer (PASSIVE_LEVEL): a physically contiguous data buffer of
    /// whole pages covering the request and one page-aligned BDL page, both zeroed and
    /// neither programmed: the client writes the BDL and calls SetupDmaEngineWithBdl.
    /// A request of 0 is INVALID_PARAMETER; an engine out of reset or already holding a
    /// buffer is INVALID_DEVICE_REQUEST; memory running out is INSUFFICIENT_RESOURCES
    /// (nothing kept).
    public func allocateContiguousDmaBuffer(_ handle: DmaEngineHandle, requestedBufferSize: Int) throws(NTStatus) -> ContiguousDmaBuffer {
        try connection.requireKind([.bdl])
        return try connection.bus.allocateContiguousDmaBuffer(client: connection.client, handle: handle, requested: requestedBufferSize)
    }

    /// SetupDmaEngineWithBdl (PASSIVE_LEVEL): validates the client's BDL and programs the
    /// engine with it after an SRST handshake (DEVICE_NOT_READY); the engine stays in
    /// reset. `isr` runs at DIRQL with SDnSTS bits 2-4 (BCIS, FIFOE, DESE) for IOC and errors.
    ///
    /// The BDL must have `lvi` 1 to 255 and each of its `lvi` + 1 entries 128-byte aligned,
    /// non-empty and inside the data buffer, their lengths adding up to `bufferLength`, a
    /// whole number of blocks, and the table inside the BDL page: else INVALID_PARAMETER.
    /// INVALID_DEVICE_REQUEST without a contiguous buffer or out of reset.
    ///
    /// **Decision**: the engine runs only what was checked. The checked entries are copied
    /// into a page of the bus's own (allocated at the first setup, freed with the buffer;
    /// none left is INSUFFICIENT_RESOURCES) and BDPL/BDPU name that copy, so a client that
    /// rewrites its BDL page afterwards cannot point the engine at another client's memory
    /// or the bus's rings: to change the BDL, set the engine up again.
    public func setupDmaEngineWithBdl(_ handle: DmaEngineHandle, bufferLength: UInt32, lvi: UInt16,
                                      isr: @escaping BdlInterruptHandler, context: UInt) throws(NTStatus) -> BdlEngineSetup {
        try connection.requireKind([.bdl])
        return try connection.bus.setupDmaEngineWithBdl(client: connection.client, handle: handle, bufferLength: bufferLength, lvi: lvi, isr: isr, context: context)
    }

    /// FreeContiguousDmaBuffer (PASSIVE_LEVEL): frees the data buffer and the BDL page.
    /// INVALID_DEVICE_REQUEST unless the engine is in reset with a contiguous buffer.
    public func freeContiguousDmaBuffer(_ handle: DmaEngineHandle) throws(NTStatus) {
        try connection.requireKind([.bdl])
        try connection.bus.freeContiguousDmaBuffer(client: connection.client, handle: handle)
    }
}

extension BusConnection {
    /// A routine reached through a version that lacks it (only possible by conforming a
    /// foreign type to a routine protocol) is STATUS_INVALID_DEVICE_REQUEST.
    /// (An array literal, not a set: a call builds no hash table.)
    func requireKind(_ kinds: [InterfaceKind]) throws(NTStatus) {
        guard kinds.contains(kind) else { throw .invalidDeviceRequest }
    }
}

/// HDAUDIO_BUS_INTERFACE: the common routines plus AllocateDmaBuffer / FreeDmaBuffer.
public struct HDAudioBaseInterface: DmaBufferRoutines {
    /// The connection behind the interface.
    public let connection: BusConnection
}

/// HDAUDIO_BUS_INTERFACE_V2: BASE plus the notification routines.
public struct HDAudioV2Interface: DmaBufferRoutines, NotificationRoutines {
    /// The connection behind the interface.
    public let connection: BusConnection
}

/// HDAUDIO_BUS_INTERFACE_BDL: the common routines plus the BDL routines.
public struct HDAudioBDLInterface: BdlRoutines {
    /// The connection behind the interface.
    public let connection: BusConnection
}
