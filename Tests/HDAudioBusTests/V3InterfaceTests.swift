import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing

/// An FDO stand-in that counts the references the bus holds on it.
final class CountedFdo: Sendable {
    static let live = Atomic<Int>(0)
    init() { CountedFdo.live.add(1, ordering: .relaxed) }
    deinit { CountedFdo.live.subtract(1, ordering: .relaxed) }
}

@Suite("V3 notification callbacks", .serialized)
struct V3InterfaceTests {
    /// Calls with their QPC values and contexts, in order.
    final class Log: Sendable {
        let calls = PThreadMutex<[(qpc: Int64, context: UInt, irql: IRQL)]>([])
        let platform: VirtualPlatform
        init(_ platform: VirtualPlatform) { self.platform = platform }
        func callback() -> DmaNotificationCallback {
            DmaNotificationCallback { [self] qpc, context in
                let irql = platform.currentIRQL
                calls.withLock { $0.append((qpc, context, irql)) }
            }
        }
        var count: Int { calls.withLock { $0.count } }
    }

    static func engine(_ client: HDAudioV3Interface, size: Int = 8192, notifications: Int = 2) throws -> DmaEngineHandle {
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: notifications, requestedBufferSize: size)
        return a.handle
    }

    @Test("A callback runs at DISPATCH_LEVEL at every IOC, to the frame, with QPC values 100 ns apart per 1/48000 s")
    func callbackPerIOC() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v3)
        let h = try V3InterfaceTests.engine(client)
        let log = Log(system.platform)
        let event = NotificationEvent()
        try client.registerNotificationEvent(h, event: event)
        try client.registerNotificationCallback(h, fdo: nil, callback: log.callback(), context: 7)
        try client.setDmaEngineState(.stop, handles: [h])
        try client.setDmaEngineState(.run, handles: [h])
        // 8192 bytes, 4 per frame, two notifications: an IOC every 1024 frames.
        system.advance(frames: 1023)
        #expect(log.count == 0)
        system.advance(frames: 1)
        #expect(log.count == 1 && event.signalCount == 1)
        system.advance(frames: 1024 * 9)
        let calls = log.calls.withLock { $0 }
        #expect(calls.count == 10 && event.signalCount == 10)
        #expect(calls.allSatisfy { $0.context == 7 && $0.irql == .dispatch })
        // 1024 frames = 1024 / 48000 s = 213 333.3 ticks of 100 ns.
        for (a, b) in zip(calls, calls.dropFirst()) { #expect(abs(b.qpc - a.qpc - 213_333) <= 1) }
        #expect(calls[0].qpc > 0)
    }

    @Test("Unregister matches callback and context together; an unknown pair is STATUS_INVALID_PARAMETER")
    func unregisterMatchesPair() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v3)
        let h = try V3InterfaceTests.engine(client)
        let log = Log(system.platform)
        let a = log.callback(), b = log.callback()
        try client.registerNotificationCallback(h, fdo: nil, callback: a, context: 1)
        try client.registerNotificationCallback(h, fdo: nil, callback: a, context: 2)
        expectStatus(.invalidParameter) { try client.registerNotificationCallback(h, fdo: nil, callback: a, context: 1) }
        expectStatus(.invalidParameter) { try client.unregisterNotificationCallback(h, callback: b, context: 1) }
        expectStatus(.invalidParameter) { try client.unregisterNotificationCallback(h, callback: a, context: 3) }
        try client.unregisterNotificationCallback(h, callback: a, context: 1)
        expectStatus(.invalidParameter) { try client.unregisterNotificationCallback(h, callback: a, context: 1) }
        try client.setDmaEngineState(.stop, handles: [h])
        try client.setDmaEngineState(.run, handles: [h])
        system.advance(frames: 2048)
        // Only (a, 2) is left.
        #expect(log.calls.withLock { $0.map(\.context) } == [2, 2])
    }

    @Test("An engine holds four callbacks; a fifth is STATUS_INSUFFICIENT_RESOURCES")
    func fourPerEngine() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v3)
        let h = try V3InterfaceTests.engine(client)
        let c = Log(system.platform).callback()
        for k in 0..<UInt(HDAudioBus.maxNotificationCallbacks) {
            try client.registerNotificationCallback(h, fdo: nil, callback: c, context: k)
        }
        expectStatus(.insufficientResources) { try client.registerNotificationCallback(h, fdo: nil, callback: c, context: 99) }
    }

    @Test("The bus holds the FDO until the matching unregister, the engine's free or the close")
    func fdoReference() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v3)
        let h = try V3InterfaceTests.engine(client)
        let c = Log(system.platform).callback()
        let before = CountedFdo.live.load(ordering: .relaxed)
        try client.registerNotificationCallback(h, fdo: CountedFdo(), callback: c, context: 1)
        #expect(CountedFdo.live.load(ordering: .relaxed) == before + 1)
        try client.unregisterNotificationCallback(h, callback: c, context: 1)
        #expect(CountedFdo.live.load(ordering: .relaxed) == before)
        try client.registerNotificationCallback(h, fdo: CountedFdo(), callback: c, context: 1)
        client.close()
        #expect(CountedFdo.live.load(ordering: .relaxed) == before)
    }

    @Test("Register and unregister are PASSIVE_LEVEL: above it STATUS_UNSUCCESSFUL; a forged handle STATUS_INVALID_HANDLE")
    func irqlAndHandles() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v3)
        let h = try V3InterfaceTests.engine(client)
        let c = Log(system.platform).callback()
        try system.atIRQL(.dispatch) {
            expectStatus(.unsuccessful) { try client.registerNotificationCallback(h, fdo: nil, callback: c, context: 1) }
            expectStatus(.unsuccessful) { try client.unregisterNotificationCallback(h, callback: c, context: 1) }
        }
        let forged = DmaEngineHandle(rawValue: h.rawValue ^ 0x100)
        expectStatus(.invalidHandle) { try client.registerNotificationCallback(forged, fdo: nil, callback: c, context: 1) }
        expectStatus(.invalidHandle) { try client.unregisterNotificationCallback(forged, callback: c, context: 1) }
        client.close()
        expectStatus(.invalidHandle) { try client.registerNotificationCallback(h, fdo: nil, callback: c, context: 1) }
    }

    @Test("V3 keeps every V2 routine: notification buffers and events work through it")
    func v2RoutinesThroughV3() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v3)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        #expect(b.allocatedBufferSize == 4096)
        try client.freeDmaBuffer(a.handle)
        let n = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096)
        try client.freeDmaBufferWithNotification(a.handle, bufferMdl: n.mdl, bufferSize: n.allocatedBufferSize)
        try client.freeDmaEngine(a.handle)
    }
}
