public import HDAudio
import Synchronization

/// One client's connection to the bus: its id, its codec address and its DDI version.
/// Closing it (explicitly, or when the last interface value holding it goes away) frees
/// whatever the client still holds: engines are stopped and reset, buffers, engines and
/// events freed.
public final class BusConnection: Sendable {
    let bus: HDAudioBus
    let client: UInt32
    /// The codec address the interface was opened for.
    public let codecAddress: Int
    /// The DDI version the interface was opened with.
    public let kind: InterfaceKind
    private let closed = Atomic<Bool>(false)

    init(bus: HDAudioBus, client: UInt32, codecAddress: Int, kind: InterfaceKind) {
        self.bus = bus
        self.client = client
        self.codecAddress = codecAddress
        self.kind = kind
    }

    /// Closes the connection (idempotent).
    func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) { bus.closeClient(client) }
    }

    deinit { close() }
}

/// A DDI version: `.base`, `.v2` or `.bdl`, each naming the interface type it opens.
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

    /// AllocateRenderDmaEngine: reserves an output engine (or, when none is free, a
    /// bidirectional one) and its SDO bandwidth. See `HDAudioBus.allocateEngine`.
    public func allocateRenderDmaEngine(format: StreamFormat, stripe: Bool) throws(NTStatus) -> DmaEngineAllocation {
        try connection.bus.allocateDmaEngine(client: connection.client, direction: .render, format: format, stripe: stripe, codecAddress: 0)
    }

    /// AllocateCaptureDmaEngine: reserves an input engine (or a bidirectional one) and
    /// bandwidth on the SDI line of `codecAddress`.
    public func allocateCaptureDmaEngine(codecAddress: Int, format: StreamFormat) throws(NTStatus) -> DmaEngineAllocation {
        try connection.bus.allocateDmaEngine(client: connection.client, direction: .capture, format: format, stripe: false, codecAddress: codecAddress)
    }

    /// ChangeBandwidthAllocation: a new format for an engine in reset with no buffer.
    public func changeBandwidthAllocation(_ handle: DmaEngineHandle, format: StreamFormat) throws(NTStatus) -> ConverterFormat {
        try connection.bus.changeBandwidthAllocation(client: connection.client, handle: handle, format: format)
    }

    /// FreeDmaEngine: frees an engine in reset with no buffer.
    public func freeDmaEngine(_ handle: DmaEngineHandle) throws(NTStatus) {
        try connection.bus.freeDmaEngine(client: connection.client, handle: handle)
    }

    /// SetDmaEngineState: moves every engine named to `state`, together (SSYNC).
    public func setDmaEngineState(_ state: StreamState, handles: [DmaEngineHandle]) throws(NTStatus) {
        try connection.bus.setDmaEngineState(client: connection.client, state: state, handles: handles)
    }

    /// GetWallClockRegister: a live read-only view of WALCLK.
    public func getWallClockRegister() throws(NTStatus) -> RegisterView {
        try connection.bus.getWallClockRegister()
    }

    /// GetLinkPositionRegister: a live read-only view of the engine's position.
    public func getLinkPositionRegister(_ handle: DmaEngineHandle) throws(NTStatus) -> RegisterView {
        try connection.bus.getLinkPositionRegister(client: connection.client, handle: handle)
    }

    /// TransferCodecVerbs, synchronous (no callback; PASSIVE_LEVEL): sends the verbs to
    /// the interface's codec through the CORB and returns them with their responses.
    public func transferCodecVerbs(_ transfers: [CodecTransfer]) throws(NTStatus) -> [CodecTransfer] {
        try connection.bus.transferVerbs(client: connection.client, codecAddress: connection.codecAddress, transfers,
                                         completion: nil, context: 0)
    }

    /// TransferCodecVerbs, asynchronous (up to DISPATCH_LEVEL): returns at once; `callback`
    /// runs at DISPATCH_LEVEL with the responses once they are all in.
    public func transferCodecVerbs(_ transfers: [CodecTransfer], callback: @escaping CodecTransferCompletion,
                                   context: UInt) throws(NTStatus) {
        _ = try connection.bus.transferVerbs(client: connection.client, codecAddress: connection.codecAddress, transfers,
                                             completion: callback, context: context)
    }

    /// RegisterEventCallback: a callback for the codec's unsolicited responses; returns
    /// the tag (0 to 63) to program into the codec (SET_UNSOLICITED_ENABLE).
    public func registerEventCallback(_ routine: @escaping UnsolicitedResponseHandler, context: UInt) throws(NTStatus) -> UInt8 {
        try connection.bus.registerCallback(client: connection.client, codecAddress: connection.codecAddress,
                                            handler: routine, context: context)
    }

    /// UnregisterEventCallback: frees a tag RegisterEventCallback returned.
    public func unregisterEventCallback(tag: UInt8) throws(NTStatus) {
        try connection.bus.unregisterCallback(client: connection.client, codecAddress: connection.codecAddress, tag: tag)
    }

    /// GetResourceInformation: the codec address and the function group start node.
    public func getResourceInformation() throws(NTStatus) -> ResourceInformation {
        try connection.bus.resourceInformation(client: connection.client, codecAddress: connection.codecAddress)
    }

    /// GetDeviceInformation: the BASE or V2 form, chosen by `size` (the caller's Size).
    public func getDeviceInformation(size: Int) throws(NTStatus) -> DeviceInformation {
        try connection.bus.getDeviceInformation(size: size)
    }
}

/// AllocateDmaBuffer and FreeDmaBuffer: the BASE and V2 interfaces.
public protocol DmaBufferRoutines: HDAudioBusInterface {}

extension DmaBufferRoutines {
    /// AllocateDmaBuffer: allocates a scattered buffer of the legal size closest to the
    /// request, builds its BDL (no IOC) and programs the engine.
    public func allocateDmaBuffer(_ handle: DmaEngineHandle, requestedBufferSize: Int) throws(NTStatus) -> DmaBufferAllocation {
        try connection.requireKind([.base, .v2])
        let (mdl, tag, fifo) = try connection.bus.allocateDmaBuffer(client: connection.client, handle: handle, notifications: 0, requested: requestedBufferSize, withNotification: false)
        return DmaBufferAllocation(mdl: mdl, allocatedBufferSize: mdl.byteCount, streamId: tag, fifoSize: fifo)
    }

    /// FreeDmaBuffer: frees the buffer AllocateDmaBuffer made.
    public func freeDmaBuffer(_ handle: DmaEngineHandle) throws(NTStatus) {
        try connection.requireKind([.base, .v2])
        try connection.bus.freeDmaBuffer(client: connection.client, handle: handle, withNotification: false, mdl: nil, size: nil)
    }
}

/// AllocateDmaBufferWithNotification, FreeDmaBufferWithNotification,
/// RegisterNotificationEvent and UnregisterNotificationEvent: the V2 interface.
public protocol NotificationRoutines: HDAudioBusInterface {}

extension NotificationRoutines {
    /// AllocateDmaBufferWithNotification: like AllocateDmaBuffer, with IOC at the end of
    /// the buffer and, for two notifications, at its midpoint.
    public func allocateDmaBufferWithNotification(_ handle: DmaEngineHandle, notificationCount: Int,
                                                  requestedBufferSize: Int) throws(NTStatus) -> NotificationBufferAllocation {
        try connection.requireKind([.v2])
        let (mdl, tag, fifo) = try connection.bus.allocateDmaBuffer(client: connection.client, handle: handle, notifications: notificationCount, requested: requestedBufferSize, withNotification: true)
        return NotificationBufferAllocation(mdl: mdl, allocatedBufferSize: mdl.byteCount, offsetFromFirstPage: mdl.byteOffset, streamId: tag, fifoSize: fifo)
    }

    /// FreeDmaBufferWithNotification: frees the buffer; `bufferMdl` and `bufferSize` must
    /// be what the allocation returned.
    public func freeDmaBufferWithNotification(_ handle: DmaEngineHandle, bufferMdl: MemoryDescriptorList, bufferSize: Int) throws(NTStatus) {
        try connection.requireKind([.v2])
        try connection.bus.freeDmaBuffer(client: connection.client, handle: handle, withNotification: true, mdl: bufferMdl, size: bufferSize)
    }

    /// RegisterNotificationEvent: signal `event` at every IOC of the engine's buffer.
    public func registerNotificationEvent(_ handle: DmaEngineHandle, event: NotificationEvent) throws(NTStatus) {
        try connection.requireKind([.v2])
        try connection.bus.registerNotificationEvent(client: connection.client, handle: handle, event: event)
    }

    /// UnregisterNotificationEvent.
    public func unregisterNotificationEvent(_ handle: DmaEngineHandle, event: NotificationEvent) throws(NTStatus) {
        try connection.requireKind([.v2])
        try connection.bus.unregisterNotificationEvent(client: connection.client, handle: handle, event: event)
    }
}

/// AllocateContiguousDmaBuffer, SetupDmaEngineWithBdl and FreeContiguousDmaBuffer: the BDL interface.
public protocol BdlRoutines: HDAudioBusInterface {}

extension BdlRoutines {
    /// AllocateContiguousDmaBuffer: a contiguous data buffer and one BDL page, not programmed.
    public func allocateContiguousDmaBuffer(_ handle: DmaEngineHandle, requestedBufferSize: Int) throws(NTStatus) -> ContiguousDmaBuffer {
        try connection.requireKind([.bdl])
        return try connection.bus.allocateContiguousDmaBuffer(client: connection.client, handle: handle, requested: requestedBufferSize)
    }

    /// SetupDmaEngineWithBdl: validates the client's BDL and programs the engine with it;
    /// `isr` runs at DIRQL with SDnSTS bits 2-4 for IOC and errors.
    public func setupDmaEngineWithBdl(_ handle: DmaEngineHandle, bufferLength: UInt32, lvi: UInt16,
                                      isr: @escaping BdlInterruptHandler, context: UInt) throws(NTStatus) -> BdlEngineSetup {
        try connection.requireKind([.bdl])
        return try connection.bus.setupDmaEngineWithBdl(client: connection.client, handle: handle, bufferLength: bufferLength, lvi: lvi, isr: isr, context: context)
    }

    /// FreeContiguousDmaBuffer.
    public func freeContiguousDmaBuffer(_ handle: DmaEngineHandle) throws(NTStatus) {
        try connection.requireKind([.bdl])
        try connection.bus.freeContiguousDmaBuffer(client: connection.client, handle: handle)
    }
}

extension BusConnection {
    /// A routine reached through a version that lacks it (only possible by conforming a
    /// foreign type to a routine protocol) is STATUS_INVALID_DEVICE_REQUEST.
    func requireKind(_ kinds: Set<InterfaceKind>) throws(NTStatus) {
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
