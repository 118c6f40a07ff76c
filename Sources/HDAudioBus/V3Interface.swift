public import HDAudio

/// A V3 DMA notification callback (PHDAUDIO_DMA_NOTIFICATION_CALLBACK): called at
/// DISPATCH_LEVEL once per IOC of the engine's buffer with the QPC value of the moment the
/// bus's ISR handled the IOC and the context it was registered with.
///
/// A class, so that a callback has an identity: UnregisterNotificationCallback finds a
/// registration by the callback (this object) and its context together, as the WDK's
/// finds it by the routine's address and its context.
public final class DmaNotificationCallback: Sendable {
    let body: @Sendable (_ qpc: Int64, _ context: UInt) -> Void

    /// A callback that runs `body` with the QPC timestamp and the registration's context.
    public init(_ body: @escaping @Sendable (_ qpc: Int64, _ context: UInt) -> Void) { self.body = body }

    func notify(_ qpc: Int64, _ context: UInt) { body(qpc, context) }
}

/// One RegisterNotificationCallback: the callback, its context and the FDO reference the
/// bus holds while it is registered.
struct NotificationCallbackRegistration: Sendable {
    let callback: DmaNotificationCallback
    let context: UInt
    /// The FDO the bus keeps a reference on (released when the registration goes).
    let fdo: (any AnyObject & Sendable)?

    func matches(_ callback: DmaNotificationCallback, _ context: UInt) -> Bool {
        self.callback === callback && self.context == context
    }
}

/// WALCLK (32 bits, 24 MHz, wrapping about every 179 s) extended to 64 bits by the reads
/// the bus makes of it; the QPC values of V3 callbacks are derived from it.
struct WallClockExtension {
    var last: UInt32 = 0
    var high: UInt64 = 0

    mutating func extend(_ now: UInt32) -> UInt64 {
        if now < last { high += 1 << 32 }
        last = now
        return high | UInt64(now)
    }
}

/// HDAUDIO_BUS_INTERFACE_V3 (Windows 10 19H1 and later).
public struct V3Version: InterfaceVersion {
    /// `.v3`.
    public var kind: InterfaceKind { .v3 }
    /// Wraps a connection.
    public func makeInterface(_ connection: BusConnection) -> HDAudioV3Interface { HDAudioV3Interface(connection: connection) }
}

extension InterfaceVersion where Self == V3Version {
    /// HDAUDIO_BUS_INTERFACE_V3.
    public static var v3: V3Version { V3Version() }
}

/// HDAUDIO_BUS_INTERFACE_V3: V2 plus RegisterNotificationCallback and
/// UnregisterNotificationCallback.
public struct HDAudioV3Interface: DmaBufferRoutines, NotificationRoutines, NotificationCallbackRoutines {
    /// The connection behind the interface.
    public let connection: BusConnection
}

/// RegisterNotificationCallback and UnregisterNotificationCallback: the V3 interface.
public protocol NotificationCallbackRoutines: HDAudioBusInterface {}

extension NotificationCallbackRoutines {
    /// RegisterNotificationCallback (PASSIVE_LEVEL): call `callback` with `context` at every
    /// IOC of the engine's notification buffer, at DISPATCH_LEVEL after the ISR (and after
    /// the engine's events are signalled), with the QPC value (`HDAudioBus.qpcFrequency`
    /// ticks per second) of the moment the ISR handled the IOC. The bus holds `fdo` until
    /// the matching unregister (or until the engine is freed or the interface closed).
    ///
    /// Checked in this order: IRQL (UNSUCCESSFUL); the handle (INVALID_HANDLE); the same
    /// callback and context already registered on the engine (INVALID_PARAMETER, a
    /// **Decision**); the engine's `HDAudioBus.maxNotificationCallbacks` slots full
    /// (INSUFFICIENT_RESOURCES, the documented failure).
    public func registerNotificationCallback(_ handle: DmaEngineHandle, fdo: (any AnyObject & Sendable)?,
                                             callback: DmaNotificationCallback, context: UInt) throws(NTStatus) {
        try connection.requireKind([.v3])
        try connection.bus.registerNotificationCallback(
            client: connection.client, handle: handle,
            NotificationCallbackRegistration(callback: callback, context: context, fdo: fdo))
    }

    /// UnregisterNotificationCallback (PASSIVE_LEVEL): removes the registration that has
    /// both this callback and this context (the documented match) and drops the FDO
    /// reference. A pair not registered on the engine is INVALID_PARAMETER (documented);
    /// IRQL and handle as at registration.
    public func unregisterNotificationCallback(_ handle: DmaEngineHandle, callback: DmaNotificationCallback,
                                               context: UInt) throws(NTStatus) {
        try connection.requireKind([.v3])
        try connection.bus.unregisterNotificationCallback(client: connection.client, handle: handle,
                                                          callback: callback, context: context)
    }
}

extension HDAudioBus {
    /// Notification callbacks one engine can hold (RegisterNotificationCallback).
    public static let maxNotificationCallbacks = 4
    /// The frequency of the QPC values passed to V3 callbacks: 10 MHz (100 ns ticks).
    public static let qpcFrequency: Int64 = 10_000_000

    /// The QPC value now: WALCLK, extended to 64 bits, in 100 ns ticks (WALCLK runs at
    /// 24 MHz, so 12 WALCLK ticks are 5 QPC ticks). Safe at DIRQL (one register read).
    func performanceCounter() -> Int64 {
        let now = platform.read32(HDARegister.walclk)
        let ticks = wallClock.withLock { $0.extend(now) }
        return Int64(truncatingIfNeeded: ticks / 12 * 5 + ticks % 12 * 5 / 12)
    }

    /// RegisterNotificationCallback, for the client `client`.
    func registerNotificationCallback(client: UInt32, handle: DmaEngineHandle,
                                      _ registration: NotificationCallbackRegistration) throws(NTStatus) {
        try require(.passive)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            var a = s.engines[i].allocation!
            guard !a.callbacks.contains(where: { $0.matches(registration.callback, registration.context) })
            else { throw .invalidParameter }
            guard a.callbacks.count < HDAudioBus.maxNotificationCallbacks else { throw .insufficientResources }
            a.callbacks.append(registration)
            s.engines[i].allocation = a
            refreshInterruptTarget(i, a)
        }
    }

    /// UnregisterNotificationCallback, for the client `client`.
    func unregisterNotificationCallback(client: UInt32, handle: DmaEngineHandle,
                                        callback: DmaNotificationCallback, context: UInt) throws(NTStatus) {
        try require(.passive)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            var a = s.engines[i].allocation!
            guard let at = a.callbacks.firstIndex(where: { $0.matches(callback, context) }) else { throw .invalidParameter }
            a.callbacks.remove(at: at)
            s.engines[i].allocation = a
            refreshInterruptTarget(i, a)
        }
    }
}
