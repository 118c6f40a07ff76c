import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing
import TestSupport

/// The loop the protocol's default `poll8` runs, through `read8` and `stall`: the reference
/// the virtual platform's own poll must match read for read.
func readAndStall(_ p: VirtualPlatform, _ offset: UInt32, limit: UInt64 = 300, _ done: (UInt8) -> Bool) -> Bool {
    var waited: UInt64 = 0
    while true {
        if done(p.read8(offset)) { return true }
        if waited >= limit { return false }
        p.stall(microseconds: 3)
        waited += 3
    }
}

@Suite("VirtualPlatform")
struct VirtualPlatformTests {
    func makeSystem(_ profile: ControllerProfile) throws -> AzaliaSystem {
        try AzaliaSystem(profile: profile, memoryPages: 2048, faults: .init(), codecs: [0: QuietCodec()])
    }

    @Test("Stalls accumulate sub-frame time in BCLK: 100 stalls of 3 us are exactly 300 us of link time")
    func stallAccumulates() throws {
        let system = try makeSystem(.ich6)
        func linkBCLK() -> UInt64 { system.frame * 500 + system.platform.subFrameBCLK }
        let start = linkBCLK()
        for _ in 0..<100 { system.platform.stall(microseconds: 3) }
        // 300 us = 7200 BCLK exactly, whatever was carried before.
        #expect(linkBCLK() - start == 7200)
        let frame = system.frame, carried = system.platform.subFrameBCLK
        // Stall up to the next frame boundary, minus one microsecond's worth: no new frame.
        let toBoundary = (500 - carried) / 24
        if toBoundary > 0 {
            system.platform.stall(microseconds: toBoundary)
            #expect(system.frame == frame || (500 - carried) % 24 == 0)
        }
        system.platform.stall(microseconds: 21)   // 504 BCLK: at least one more frame
        #expect(system.frame > frame)
        #expect(linkBCLK() - start == 7200 + toBoundary * 24 + 504)
    }

    @Test("poll8 takes the same link time as reading and stalling in turn: on a timeout, and on an SRST that latches")
    func pollMatchesReadAndStall() throws {
        let ctl = HDARegister.streamDescriptor(0) + HDARegister.SD.ctl
        for profile in [ControllerProfile.ich6, .skylakePCH] {
            let a = try makeSystem(profile), b = try makeSystem(profile)
            for s in [a, b] { s.platform.stall(microseconds: 7) }   // start off a frame boundary
            // `done` sees every value the poll reads; SDnCTL changes only at the controller's
            // events, so the poll reads it again only at the next one (or at the limit).
            var looks = 0
            // Never done: the whole 300 us limit (101 reads in turn).
            #expect(a.platform.poll8(ctl, every: 3, limit: 300) { _ in looks += 1; return false } == false)
            #expect(readAndStall(b.platform, ctl) { _ in false } == false)
            #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
            #expect(looks == 2)
            // An SRST handshake: SRST reads 1 after the profile's latency, then 0 again.
            for s in [a, b] { s.platform.write8(ctl, UInt8(StreamControl.srst)) }
            looks = 0
            #expect(a.platform.poll8(ctl, every: 3, limit: 300) { looks += 1; return $0 & UInt8(StreamControl.srst) != 0 })
            #expect(readAndStall(b.platform, ctl) { $0 & UInt8(StreamControl.srst) != 0 })
            #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
            #expect(looks == 2)
            for s in [a, b] { s.platform.write8(ctl, 0) }
            #expect(a.platform.poll8(ctl, every: 3, limit: 300) { $0 & UInt8(StreamControl.srst) == 0 })
            #expect(readAndStall(b.platform, ctl) { $0 & UInt8(StreamControl.srst) == 0 })
            #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
            #expect(a.frame > 0)
            // LPIB moves with every frame: it is read at every stall, as the default does.
            looks = 0
            #expect(a.platform.poll8(HDARegister.streamDescriptor(0) + HDARegister.SD.lpib, every: 3, limit: 30) { _ in
                looks += 1
                return false
            } == false)
            for _ in 0..<10 { b.platform.stall(microseconds: 3) }   // the default: 11 reads, 10 stalls
            #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
            #expect(looks == 11)
        }
    }

    @Test("poll8 of an SRST that never latches or never clears (injected faults) gives up at the same link time as reading and stalling in turn")
    func pollTimesOutLikeReadAndStall() throws {
        let faults = FaultInjection(srstNeverLatches: [1], srstNeverClears: [2])
        let a = try AzaliaSystem(profile: .skylakePCH, memoryPages: 256, faults: faults, codecs: [0: QuietCodec()])
        let b = try AzaliaSystem(profile: .skylakePCH, memoryPages: 256, faults: faults, codecs: [0: QuietCodec()])
        for s in [a, b] { s.platform.stall(microseconds: 5) }
        let never = HDARegister.streamDescriptor(1) + HDARegister.SD.ctl
        for s in [a, b] { s.platform.write8(never, UInt8(StreamControl.srst)) }
        #expect(a.platform.poll8(never, every: 3, limit: 300) { $0 & UInt8(StreamControl.srst) != 0 } == false)
        #expect(readAndStall(b.platform, never) { $0 & UInt8(StreamControl.srst) != 0 } == false)
        #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
        let stuck = HDARegister.streamDescriptor(2) + HDARegister.SD.ctl
        for s in [a, b] { s.platform.write8(stuck, UInt8(StreamControl.srst)) }
        #expect(a.platform.poll8(stuck, every: 3, limit: 300) { $0 & UInt8(StreamControl.srst) != 0 })
        #expect(readAndStall(b.platform, stuck) { $0 & UInt8(StreamControl.srst) != 0 })
        #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
        for s in [a, b] { s.platform.write8(stuck, 0) }
        #expect(a.platform.poll8(stuck, every: 3, limit: 300) { $0 & UInt8(StreamControl.srst) == 0 } == false)
        #expect(readAndStall(b.platform, stuck) { $0 & UInt8(StreamControl.srst) == 0 } == false)
        #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
    }

    @Test("poll8 over many frames with IOC interrupts raised while it polls: the same ISR and DPC runs on the same frames as reading and stalling in turn")
    func pollDeliversInterruptsOnTheirFrames() throws {
        // One render engine at 48000/32/8 (32 bytes a frame) with a 4 KiB buffer notified
        // twice: an IOC every 64 frames (1.33 ms), about nine while a 12 ms poll runs.
        final class Frames: Sendable { let list = Mutex<[UInt64]>([]) }
        func start(_ system: AzaliaSystem, _ frames: Frames) throws -> HDAudioBusInterface {
            let interface = try system.openInterface(codecAddress: 0, version: .v2)
            let engine = try interface.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 32, channels: 8), stripe: false)
            let buffer = try interface.allocateDmaBufferWithNotification(engine.handle, notificationCount: 2, requestedBufferSize: 4096)
            #expect(buffer.allocatedBufferSize == 4096)
            let platform = system.platform
            try interface.registerNotificationEvent(engine.handle, event: NotificationEvent { _ in
                let frame = platform.frame
                frames.list.withLock { $0.append(frame) }
            })
            try interface.setDmaEngineState(.stop, handles: [engine.handle])
            try interface.setDmaEngineState(.run, handles: [engine.handle])
            return interface
        }
        let a = try makeSystem(.skylakePCH), b = try makeSystem(.skylakePCH)
        let aFrames = Frames(), bFrames = Frames()
        let ai = try start(a, aFrames), bi = try start(b, bFrames)
        defer { ai.close(); bi.close() }
        #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
        // An idle engine's SDnCTL never reads 0xFF: the whole limit, frame by frame.
        let idle = HDARegister.streamDescriptor(15) + HDARegister.SD.ctl
        #expect(a.platform.poll8(idle, every: 3, limit: 12_000) { $0 == 0xFF } == false)
        #expect(readAndStall(b.platform, idle, limit: 12_000) { $0 == 0xFF } == false)
        #expect(a.frame == b.frame && a.platform.subFrameBCLK == b.platform.subFrameBCLK)
        let seen = aFrames.list.withLock { $0 }
        #expect(seen.count >= 8)
        #expect(seen == bFrames.list.withLock { $0 })
    }

    @Test("withIRQL raises the calling thread's IRQL and never lowers it")
    func irqlRaisesOnly() throws {
        let system = try makeSystem(.ich6)
        let p = system.platform
        #expect(p.currentIRQL == .passive)
        p.withIRQL(.dirql) {
            #expect(p.currentIRQL == .dirql)
            p.withIRQL(.passive) { #expect(p.currentIRQL == .dirql) }
            p.withIRQL(.dispatch) { #expect(p.currentIRQL == .dirql) }
        }
        p.withIRQL(.dispatch) { #expect(p.currentIRQL == .dispatch) }
        #expect(p.currentIRQL == .passive)
    }

    @Test("Guest memory reads and writes outside RAM fail instead of trapping")
    func memoryOutsideRam() throws {
        let system = try makeSystem(.ich6)
        #expect(system.platform.readMemory(0x10, count: 16) == nil)
        #expect(!system.platform.writeMemory(UInt64.max - 4, bytes: [1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(system.platform.allocatePages(count: 1_000_000, contiguous: false) == nil)
        #expect(system.platform.allocatePages(count: 0, contiguous: true) == nil)
    }
}
