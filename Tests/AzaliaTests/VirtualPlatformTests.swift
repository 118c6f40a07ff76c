import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing
import TestSupport

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
