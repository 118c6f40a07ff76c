import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing
import TestSupport

@Suite("Notification events and interrupts (V2)")
struct NotificationTests {
    /// A running 48 kHz/16/2 render engine (one 4-byte block per frame) with a
    /// notification buffer of `size` bytes and `event` registered.
    static func running(_ system: AzaliaSystem, _ client: HDAudioV2Interface, notifications: Int, size: Int,
                        events: [NotificationEvent], format: StreamFormat = F.stereo48) throws -> (DmaEngineHandle, Int) {
        let a = try client.allocateRenderDmaEngine(format: format, stripe: false)
        let b = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: notifications, requestedBufferSize: size)
        for e in events { try client.registerNotificationEvent(a.handle, event: e) }
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        return (a.handle, b.allocatedBufferSize)
    }

    @Test("Two notifications: the event is signalled at the midpoint and at the wrap, to the frame")
    func twoNotificationsToTheFrame() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let event = NotificationEvent()
        let (_, size) = try NotificationTests.running(system, client, notifications: 2, size: 8192, events: [event])
        #expect(size == 8192)
        // 4 bytes per frame: the first half (4096 bytes) is done after 1024 frames.
        system.advance(frames: 1023)
        #expect(event.signalCount == 0)
        system.advance(frames: 1)
        #expect(event.signalCount == 1)
        system.advance(frames: 1023)
        #expect(event.signalCount == 1)
        system.advance(frames: 1)
        #expect(event.signalCount == 2)
        // One long advance: every IOC is its own signal, none merged.
        system.advance(frames: 1024 * 20)
        #expect(event.signalCount == 22)
    }

    @Test("One notification: the event is signalled once per wrap", arguments: [F.stereo48, F.cd, StreamFormat(rate: 96000, bits: 24, channels: 2)])
    func oneNotificationPerWrap(format: StreamFormat) throws {
        let system = try makeSystem(.skylakePCH)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let event = NotificationEvent()
        let (_, size) = try NotificationTests.running(system, client, notifications: 1, size: 6000, events: [event], format: format)
        let blocksPerBuffer = UInt64(size / format.blockBytes)
        let cadence = try LinkCadence(format)
        // The frame in which the k-th wrap's last block moves.
        func wrapFrame(_ k: UInt64) -> UInt64 { cadence.frame(after: 0, carrying: k * blocksPerBuffer) }
        var now: UInt64 = 0
        for k: UInt64 in 1...5 {
            let due = wrapFrame(k)
            system.advance(frames: due - 1 - now)
            #expect(event.signalCount == Int(k - 1), "before wrap \(k)")
            system.advance(frames: 1)
            #expect(event.signalCount == Int(k), "at wrap \(k)")
            now = due
        }
    }

    @Test("Every registered event is signalled once per IOC; IOCs of two engines on one frame are two signals")
    func everyEventEveryIoc() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let shared = NotificationEvent(), own1 = NotificationEvent(), own2 = NotificationEvent()
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        for h in [a.handle, b.handle] { _ = try client.allocateDmaBufferWithNotification(h, notificationCount: 1, requestedBufferSize: 4096) }
        try client.registerNotificationEvent(a.handle, event: shared)
        try client.registerNotificationEvent(b.handle, event: shared)
        try client.registerNotificationEvent(a.handle, event: own1)
        try client.registerNotificationEvent(b.handle, event: own2)
        try client.setDmaEngineState(.stop, handles: [a.handle, b.handle])
        try client.setDmaEngineState(.run, handles: [a.handle, b.handle])
        system.advance(frames: 1024 * 3)
        #expect(own1.signalCount == 3 && own2.signalCount == 3)
        #expect(shared.signalCount == 6)
    }

    @Test("Capture engines notify too")
    func captureNotifies() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let event = NotificationEvent()
        let c = try client.allocateCaptureDmaEngine(codecAddress: 1, format: F.stereo48)
        _ = try client.allocateDmaBufferWithNotification(c.handle, notificationCount: 2, requestedBufferSize: 4096)
        try client.registerNotificationEvent(c.handle, event: event)
        try client.setDmaEngineState(.stop, handles: [c.handle])
        try client.setDmaEngineState(.run, handles: [c.handle])
        system.advance(frames: 512 * 7)
        #expect(event.signalCount == 7)
    }

    @Test("A plain AllocateDmaBuffer buffer raises no notifications")
    func plainBufferIsQuiet() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let event = NotificationEvent()
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        try client.registerNotificationEvent(a.handle, event: event)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 5000)
        #expect(event.signalCount == 0)
    }

    @Test("RegisterNotificationEvent: slots full is STATUS_INSUFFICIENT_RESOURCES; a second registration is STATUS_INVALID_PARAMETER")
    func registerStatuses() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let events = (0..<HDAudioBus.maxNotificationEvents).map { NotificationEvent(name: "e\($0)") }
        for e in events { try client.registerNotificationEvent(a.handle, event: e) }
        expectStatus(.insufficientResources) { try client.registerNotificationEvent(a.handle, event: NotificationEvent()) }
        try client.unregisterNotificationEvent(a.handle, event: events[0])
        expectStatus(.invalidParameter) { try client.registerNotificationEvent(a.handle, event: events[1]) }
        try client.registerNotificationEvent(a.handle, event: NotificationEvent())
    }

    @Test("UnregisterNotificationEvent of an unknown event is STATUS_INVALID_PARAMETER; an unregistered event is no longer signalled")
    func unregister() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let kept = NotificationEvent(), dropped = NotificationEvent()
        let (h, _) = try NotificationTests.running(system, client, notifications: 1, size: 4096, events: [kept, dropped])
        expectStatus(.invalidParameter) { try client.unregisterNotificationEvent(h, event: NotificationEvent()) }
        system.advance(frames: 1024)
        try client.unregisterNotificationEvent(h, event: dropped)
        expectStatus(.invalidParameter) { try client.unregisterNotificationEvent(h, event: dropped) }
        system.advance(frames: 1024 * 2)
        #expect(kept.signalCount == 3 && dropped.signalCount == 1)
    }

    @Test("Events can be waited on synchronously and with async/await; each wait consumes one signal")
    func waiting() async throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let event = NotificationEvent()
        _ = try NotificationTests.running(system, client, notifications: 2, size: 4096, events: [event])
        #expect(!event.wait(timeoutMicroseconds: 1000))
        #expect(!event.tryWait())
        let waiter = Task { await event.wait(); return event.signalCount }
        system.advance(frames: 512)
        let seen = await waiter.value
        #expect(seen >= 1)
        #expect(event.pendingSignals == 0)
        system.advance(frames: 512 * 2)
        #expect(event.pendingSignals == 2)
        #expect(event.wait(timeoutMicroseconds: 1000))
        #expect(event.tryWait())
        #expect(!event.tryWait())
        #expect(event.signalCount == 3)
    }

    @Test("Notification callbacks run at DISPATCH_LEVEL: PASSIVE routines there are STATUS_UNSUCCESSFUL, DISPATCH routines work")
    func callbackIrql() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let seen = PThreadMutex<[String]>([])
        let handle = PThreadMutex<DmaEngineHandle?>(nil)
        let platform = system.platform
        let event = NotificationEvent(name: "cb") { e in
            var log = "irql=\(platform.currentIRQL)"
            do {
                _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
                log += " allocate=ok"
            } catch { log += " allocate=\(error)" }
            if e.signalCount == 2, let h = handle.withLock({ $0 }) {
                do {
                    try client.setDmaEngineState(.stop, handles: [h])
                    log += " stop=ok"
                } catch { log += " stop=\(error)" }
            }
            seen.withLock { $0.append(log) }
        }
        let (h, _) = try NotificationTests.running(system, client, notifications: 1, size: 4096, events: [event])
        handle.withLock { $0 = h }
        system.advance(frames: 1024 * 5)
        let log = seen.withLock { $0 }
        #expect(log == ["irql=DISPATCH_LEVEL allocate=STATUS_UNSUCCESSFUL (0xC0000001)",
                        "irql=DISPATCH_LEVEL allocate=STATUS_UNSUCCESSFUL (0xC0000001) stop=ok"])
        #expect(event.signalCount == 2)
        #expect(try system.bus.resources().engines.map(\.state) == [.stop])
    }

    @Test("IOCs that fire while the bus stalls inside a DDI call are signalled when the call returns, none lost")
    func iocDuringStall() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let event = NotificationEvent()
        // 256-byte buffer, two notifications: an IOC every 32 frames.
        let (_, size) = try NotificationTests.running(system, client, notifications: 2, size: 256, events: [event])
        #expect(size == 256)
        let start = system.frame
        let other = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        try cycleBuffer(client, other.handle)
        let index = try #require(system.engineIndex(tag: 2, .render))
        system.setFaults(FaultInjection(srstNeverClears: [index]))
        // The failing handshake stalls about 30 frames under the bus lock.
        expectStatus(.deviceNotReady) { try client.allocateDmaBuffer(other.handle, requestedBufferSize: 4096) }
        system.setFaults(FaultInjection())
        system.advance(frames: 200)
        let elapsed = system.frame - start
        #expect(event.signalCount == Int(elapsed / 32))
    }


    @Test("Every IOC of a V2 buffer is one signal (two notifications, 4 IOCs in 2048 frames)")
    func everyIocOneSignal() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let b = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let buffer = try v2.allocateDmaBufferWithNotification(b.handle, notificationCount: 2, requestedBufferSize: 4096)
        #expect(buffer.allocatedBufferSize == 4096)
        let event = NotificationEvent(name: "b")
        try v2.registerNotificationEvent(b.handle, event: event)
        try v2.setDmaEngineState(.stop, handles: [b.handle]); try v2.setDmaEngineState(.run, handles: [b.handle])
        system.advance(frames: 2048 + 100)
        #expect(event.signalCount == 4)
    }

    @Test("IOCs are never merged, even when another engine's interrupt is already pending as time moves")
    func iocNeverMergedBehindPendingInterrupt() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let b = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try v2.allocateDmaBufferWithNotification(b.handle, notificationCount: 2, requestedBufferSize: 4096)
        let event = NotificationEvent(name: "b")
        try v2.registerNotificationEvent(b.handle, event: event)
        // A BDL client whose engine raises FIFOE in the first frame of its run.
        let bdl = try system.openInterface(codecAddress: 1, version: .bdl)
        let a = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let c = try bdl.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        let data = c.dataBuffer.address
        writeRawBdl(system.platform, at: c.bdlBuffer.address, [(data, 2048, false), (data + 2048, 2048, false)])
        let log = IsrLog()
        _ = try bdl.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1,
                                          isr: { mask, context in log.calls.withLock { $0.append((mask, context, .dirql)) } },
                                          context: 9)
        let aIndex = try #require(system.engineIndex(tag: 2, .render))
        system.setFaults(FaultInjection(fifoErrors: [aIndex]))
        try v2.setDmaEngineState(.stop, handles: [b.handle]); try v2.setDmaEngineState(.run, handles: [b.handle])
        try bdl.setDmaEngineState(.stop, handles: [a.handle]); try bdl.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 2048 + 100)
        #expect(log.masks == [UInt32(StreamStatus.fifoError.rawValue)])
        #expect(event.signalCount == 4)
    }

    @Test("One event registered on two engines whose IOCs fall in the same frame is signalled once per IOC of each")
    func sharedEventSameFrame() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let event = NotificationEvent()
        var handles: [DmaEngineHandle] = []
        for _ in 0..<2 {
            let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            _ = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 1024)
            try client.registerNotificationEvent(a.handle, event: event)
            handles.append(a.handle)
        }
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        system.advance(frames: 256 * 5 + 10)   // 1024 bytes at 4 bytes per frame: 5 wraps each
        #expect(event.signalCount == 10)
        try client.unregisterNotificationEvent(handles[0], event: event)
        expectStatus(.invalidParameter) { try client.unregisterNotificationEvent(handles[0], event: event) }
        system.advance(frames: 256)
        #expect(event.signalCount == 11)
    }
}
