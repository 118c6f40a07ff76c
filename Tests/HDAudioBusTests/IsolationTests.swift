import Azalia
import HDAController
import HDAudio
@testable import HDAudioBus
import Synchronization
import Testing
import TestSupport

/// What one client can do to the bus and to other clients: nothing that outlives it,
/// reaches another's memory, blocks others or crashes the bus.
@Suite("Client isolation (callbacks, verbs, checked BDLs, IRQL of the inspection routines, handle generations)")
struct IsolationTests {

    @Test("A bus whose clients' callbacks capture their own interfaces is freed with its owner: no cycle keeps it alive")
    func selfCapturingCallbacksDoNotLeak() throws {
        weak var weakBus: HDAudioBus?
        weak var weakConnection: BusConnection?
        weak var weakBdlConnection: BusConnection?
        do {
            let system = try makeSystem(.ich6)
            let v2 = try system.openInterface(codecAddress: 0, version: .v2)
            let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            _ = try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096)
            // The natural DPC: the callback uses its own interface.
            let event = NotificationEvent(name: "self") { _ in _ = try? v2.getLinkPositionRegister(a.handle) }
            try v2.registerNotificationEvent(a.handle, event: event)
            _ = try v2.registerEventCallback({ _, _ in _ = v2.codecAddress }, context: 0)
            try v2.setDmaEngineState(.stop, handles: [a.handle])
            try v2.setDmaEngineState(.run, handles: [a.handle])
            let bdl = try system.openInterface(codecAddress: 1, version: .bdl)
            let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            let c = try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096)
            writeRawBdl(system, at: c.bdlBuffer.address, [(c.dataBuffer.address, 2048, true), (c.dataBuffer.address + 2048, 2048, true)])
            _ = try bdl.setupDmaEngineWithBdl(b.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in _ = bdl.codecAddress }, context: 0)
            // A verb completion that holds its interface, to a codec that never answers.
            try bdl.transferCodecVerbs([CodecTransfer(verb: 0xF0000)], callback: { _, _ in _ = bdl.codecAddress }, context: 0)
            system.advance(frames: 2048)
            #expect(event.signalCount >= 1)
            weakBus = system.bus
            weakConnection = v2.connection
            weakBdlConnection = bdl.connection
        }
        // Compared as Bools: on a failure swift-testing would describe a live bus or connection by
        // reflection, and Mirror traps on their noncopyable locks, killing the whole test process.
        let busFreed = weakBus == nil
        let connectionsFreed = weakConnection == nil && weakBdlConnection == nil
        #expect(busFreed, "the bus (and its platform and guest memory) outlived its owner")
        #expect(connectionsFreed, "a client's connection outlived the bus's owner")
    }

    @Test("Closing a client whose callbacks capture its interface drops them: the connection goes, everything comes back")
    func closeDropsCallbacks() throws {
        let system = try makeSystem(.ich6)
        let baseline = system.allocatedPages
        weak var weakConnection: BusConnection?
        do {
            let v2 = try system.openInterface(codecAddress: 0, version: .v2)
            let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            _ = try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 4096)
            let event = NotificationEvent(name: "self") { _ in _ = try? v2.getLinkPositionRegister(a.handle) }
            try v2.registerNotificationEvent(a.handle, event: event)
            try v2.transferCodecVerbs([CodecTransfer(verb: 0xF0000)], callback: { _, _ in _ = v2.codecAddress }, context: 0)
            try v2.setDmaEngineState(.stop, handles: [a.handle])
            try v2.setDmaEngineState(.run, handles: [a.handle])
            system.advance(frames: 100)
            weakConnection = v2.connection
            v2.close()
        }
        system.advance(frames: 100)
        let connectionFreed = weakConnection == nil   // a Bool: see selfCapturingCallbacksDoNotLeak
        #expect(connectionFreed, "the closed client's connection is still held")
        #expect(system.allocatedPages == baseline)
        #expect(try system.bus.resources().engines.isEmpty)
        #expect(try system.bus.checkInvariants().isEmpty)
    }

    @Test("An asynchronous TransferCodecVerbs to a codec that never answers completes (IsValid = 0) as link time moves, with nothing else calling the bus")
    func asyncToSilentCodecCompletes() throws {
        let system = try makeSystem(.ich6)   // quiet codecs: they answer no verbs
        let client = try system.openInterface(codecAddress: 1, version: .base)
        let results = PThreadMutex<[[CodecTransfer]]>([])
        try client.transferCodecVerbs([CodecTransfer(verb: 0xF0000), CodecTransfer(verb: 0xF0004)],
                                      callback: { transfers, _ in results.withLock { $0.append(transfers) } }, context: 0)
        system.advance(frames: 50)
        let done = results.withLock { $0 }
        #expect(done.count == 1)
        #expect(done.first?.count == 2 && done.first?.allSatisfy { !$0.input.isValid } == true)
    }

    @Test("Closing a client drops its outstanding asynchronous transfers: their callbacks never run")
    func closeDropsAsyncTransfers() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 1, version: .base)
        let calls = Atomic<Int>(0)
        try client.transferCodecVerbs((0..<8).map { CodecTransfer(verb: 0xF0000 | UInt32($0)) },
                                      callback: { _, _ in calls.add(1, ordering: .relaxed) }, context: 0)
        client.close()
        system.advance(frames: 200)
        #expect(calls.load(ordering: .relaxed) == 0)
        let other = try system.openInterface(codecAddress: 1, version: .base)
        let answered = try other.transferCodecVerbs([CodecTransfer(verb: 0xF0000)])
        #expect(answered.count == 1)
    }

    @Test("TransferCodecVerbs is linear: 8 times the verbs in one call take about 8 times as long (not 64), all answered in order")
    func manyVerbsLinear() throws {
        let system = try verbSystem([0])
        let client = try system.openInterface(codecAddress: 0, version: .base)
        func timed(_ count: Int) throws -> Duration {
            let verbs = (0..<count).map { CodecTransfer(verb: UInt32($0 & 0xFFFFF)) }
            let clock = ContinuousClock()
            let start = clock.now
            let done = try client.transferCodecVerbs(verbs)
            let elapsed = clock.now - start
            #expect(done.count == verbs.count)
            #expect(done.allSatisfy { $0.input.isValid && $0.input.response == VerbCodec.answer($0.output) })
            return elapsed
        }
        _ = try timed(256)   // warm-up
        let small = try timed(1024)
        let large = try timed(8192)
        // The backlog used to be rescanned on every poll (16,000 verbs took 6.8 s, 32,000 took 28 s):
        // 8 times the verbs cost 64 times as long. Linear is 8 times; 24 leaves room for a loaded machine.
        #expect(large < small * 24, "1,024 verbs took \(small), 8,192 took \(large)")
    }

    @Test("Asynchronous verbs are bounded per client: past the bound INSUFFICIENT_RESOURCES, and another client's synchronous transfer waits behind no more than the bound")
    func asyncVerbsBounded() throws {
        let system = try verbSystem([0])
        let greedy = try system.openInterface(codecAddress: 0, version: .base)
        let completed = Atomic<Int>(0)
        var accepted = 0
        var refused: NTStatus? = nil
        while refused == nil && accepted < 10 * HDAudioBus.maxAsyncVerbsPerClient {
            do {
                try greedy.transferCodecVerbs([CodecTransfer(verb: 0xF0000)], callback: { _, _ in completed.add(1, ordering: .relaxed) }, context: 0)
                accepted += 1
            } catch { refused = error }
        }
        #expect(refused == .insufficientResources)
        #expect(accepted == HDAudioBus.maxAsyncVerbsPerClient)
        let polite = try system.openInterface(codecAddress: 0, version: .base)
        let before = system.platform.frame
        let answer = try polite.transferCodecVerbs([CodecTransfer(verb: 0xF0001)])
        let waited = system.platform.frame - before
        #expect(answer.first?.input.isValid == true)
        // Verbs to one codec go one at a time, each sent in a frame and answered in the next: the
        // polite verb waits behind at most the bound's worth of the greedy client's verbs (without
        // the bound, behind all 2,560 it tried to queue: over 5,000 frames).
        let most = 2 * UInt64(HDAudioBus.maxAsyncVerbsPerClient + 1) + UInt64(HDAudioBus.responseTimeoutFrames)
        #expect(waited <= most, "the polite client's one verb waited \(waited) frames of link time")
        system.advance(frames: UInt64(2 * HDAudioBus.maxAsyncVerbsPerClient))
        #expect(completed.load(ordering: .relaxed) == accepted)
        // Once its verbs completed, the greedy client may queue again.
        try greedy.transferCodecVerbs([CodecTransfer(verb: 0xF0000)], callback: { _, _ in }, context: 0)
    }

    @Test("A BDL rewritten after SetupDmaEngineWithBdl cannot point a capture engine at another client's buffer or the bus's rings")
    func rewrittenBdlCannotCrossClients() throws {
        var codecs: [Int: any LinkCodec] = [:]
        codecs[0] = TestCodec(transmitTags: Set(1...15), seed: 0x5A)
        let system = try AzaliaSystem(profile: .ich6, memoryPages: 512, codecs: codecs)
        // The victim: a V2 render buffer filled with a pattern.
        let victim = try system.openInterface(codecAddress: 0, version: .v2)
        let v = try victim.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let vb = try victim.allocateDmaBuffer(v.handle, requestedBufferSize: 4096)
        let pattern = [UInt8](repeating: 0xC3, count: 4096)
        for page in vb.mdl.pages { system.platform.writeMemory(page, bytes: pattern) }
        let rings = system.bus.configuration.commandRings
        let ringsBefore = system.platform.readMemory(rings, count: 1024)
        // The attacker: a capture engine whose checked BDL is then rewritten.
        let attacker = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try attacker.allocateCaptureDmaEngine(codecAddress: 0, format: F.stereo48)
        let c = try attacker.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        let data = c.dataBuffer.address
        writeRawBdl(system, at: c.bdlBuffer.address, [(data, 2048, false), (data + 2048, 2048, false)])
        _ = try attacker.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0)
        writeRawBdl(system, at: c.bdlBuffer.address, [(vb.mdl.pages[0], 2048, false), (rings, 2048, false)])
        try attacker.setDmaEngineState(.stop, handles: [a.handle])
        try attacker.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 3000)
        #expect(system.platform.readMemory(vb.mdl.pages[0], count: 4096) == pattern, "the capture engine wrote into another client's buffer")
        #expect(system.platform.readMemory(rings, count: 1024) == ringsBefore, "the capture engine wrote into the CORB")
        // It captured into its own buffer instead.
        #expect(system.platform.readMemory(data, count: 4096)?.contains { $0 != 0 } == true)
    }

    @Test("From a BDL ISR during a stall of a bus routine, openInterface, codecMask, resources, checkInvariants and rescanCodecs refuse with STATUS_UNSUCCESSFUL")
    func inspectionAbovePassiveRefused() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        writeRawBdl(system, at: b.bdlBuffer.address,
                    [(b.dataBuffer.address, 1024, true), (b.dataBuffer.address + 1024, 3072, false)])
        let bus = system.bus
        let statuses = PThreadMutex<[NTStatus]>([])
        _ = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in
            func record(_ body: () throws(NTStatus) -> Void) {
                do throws(NTStatus) { try body(); statuses.withLock { $0.append(.success) } } catch { statuses.withLock { $0.append(error) } }
            }
            record { () throws(NTStatus) in _ = try bus.openInterface(codecAddress: 0, version: .base) }
            record { () throws(NTStatus) in _ = try bus.codecMask }
            record { () throws(NTStatus) in _ = try bus.resources() }
            record { () throws(NTStatus) in _ = try bus.checkInvariants() }
            record { () throws(NTStatus) in _ = try bus.rescanCodecs() }
        }, context: 0)
        let index = try #require(system.engineIndex(tag: 1, .render))
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 250)   // the IOC is due at frame 256
        #expect(statuses.withLock { $0.isEmpty })
        // A routine that stalls under the bus lock across the IOC: an SRST that never latches (300 us).
        system.setFaults(FaultInjection(srstNeverLatches: Set(0..<30).subtracting([index])))
        expectStatus(.deviceNotReady) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        system.setFaults(FaultInjection())
        let seen = statuses.withLock { $0 }
        #expect(seen.count == 5, "the ISR ran during the stall")
        #expect(seen.allSatisfy { $0 == .unsuccessful })
    }

    @Test("A stale handle stays invalid for the life of the bus: a descriptor whose generations run out is retired, never wrapped")
    func generationsNeverWrap() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let first = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let slot = first.handle.slot
        try client.freeDmaEngine(first.handle)
        // As if 2^24 - 2 more allocations of this descriptor had come and gone.
        system.bus.state.withLock { $0.engines[slot].lastGeneration = DmaEngineHandle.maxGeneration - 1 }
        let last = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        #expect(last.handle.slot == slot && last.handle.generation == DmaEngineHandle.maxGeneration)
        try client.freeDmaEngine(last.handle)
        // The next allocation does not wrap the generation back to the first handle's.
        let next = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        #expect(next.handle.slot != slot)
        #expect(next.handle != first.handle)
        expectStatus(.invalidHandle) { try client.freeDmaEngine(first.handle) }
        expectStatus(.invalidHandle) { try client.freeDmaEngine(last.handle) }
        try client.freeDmaEngine(next.handle)
        #expect(try system.bus.checkInvariants().isEmpty)
    }
}
