import HDAController
import HDAudio
import Testing

@Suite("Fault injection and the end of time")
struct FaultTests {


    @Test("Lifting fifoNeverReady while an accepted RUN waits for FIFORDY keeps the invariants; the engine moves after a stop and a new RUN")
    func faultLiftedWhileWaitingForFifo() throws {
        let c = HDAController(memory: GuestMemory(pages: 64), faults: FaultInjection(fifoNeverReady: [4]))
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2), lengths: [256, 256], tag: 1)
        c.run(4)
        c.faults = FaultInjection()
        c.advance(frames: 10)
        #expect(c.checkInvariants() == [])
        #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & StreamControl.run != 0 && !c.status(4).contains(.fifoReady))
        #expect(c.lpib(4) == 0, "an accepted RUN that never got FIFORDY does not move")
        c.stop(4)
        #expect(c.checkInvariants() == [])
        c.run(4)
        c.advance(frames: 10)
        #expect(c.status(4).contains(.fifoReady) && c.lpib(4) == 40)
        #expect(c.checkInvariants() == [])
    }

    @Test("After advancing to the end of 64-bit time, CRST, SRST, RUN and CORB writes never trap")
    func endOfTime() throws {
        let c = HDAController(memory: GuestMemory(pages: 16))
        c.bringUp()
        c.advance(frames: UInt64.max)
        #expect(c.frame == UInt64.max)
        c.write32(HDARegister.gctl, 0)
        c.write32(HDARegister.gctl, GlobalControl.crst)   // traps: crstExitAt = frame + crstExitFrames
        c.advance(frames: 10)
        #expect(c.checkInvariants() == [])
    }

    @Test("Fault combinations keep the invariants: SRST never latches and never clears together; RUN stuck with FIFO never ready; CRST fault lifted")
    func faultCombinations() throws {
        let faults = FaultInjection(srstNeverLatches: [4], srstNeverClears: [4], crstNeverCompletes: false,
                                    fifoErrors: [5], fifoNeverReady: [6], runNeverClears: [6])
        let c = HDAController(memory: GuestMemory(pages: 64), faults: faults)
        c.bringUp()
        c.write32(c.sd(4, HDARegister.SD.ctl), StreamControl.srst)
        c.advance(frames: 10)
        #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & StreamControl.srst == 0, "never latches")
        c.write32(c.sd(4, HDARegister.SD.ctl), 0)
        c.advance(frames: 10)
        #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & StreamControl.srst == 0)
        #expect(c.checkInvariants() == [])

        _ = try programStream(c, descriptor: 6, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], tag: 2)
        c.run(6)
        c.advance(frames: 10)
        c.stop(6)
        #expect(c.read32(c.sd(6, HDARegister.SD.ctl)) & StreamControl.run != 0 && !c.status(6).contains(.fifoReady))
        #expect(c.statistics(ofDescriptor: 6).bytesMoved == 0)
        #expect(c.checkInvariants() == [])
        c.write32(c.sd(6, HDARegister.SD.ctl), c.read32(c.sd(6, HDARegister.SD.ctl)) & 0xFF_FFFF | StreamControl.srst)
        c.advance(frames: c.profile.srstFrames)
        #expect(c.read32(c.sd(6, HDARegister.SD.ctl)) & 0xFF_FFFF == StreamControl.srst, "SRST resets a stuck RUN")
        #expect(c.checkInvariants() == [])

        // FIFOE held back by SSYNC: raised in the first frame the engine actually moves.
        _ = try programStream(c, descriptor: 5, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], tag: 3)
        c.write32(c.profile.ssyncOffset, 1 << 5)
        c.run(5)
        c.advance(frames: 20)
        #expect(!c.status(5).contains(.fifoError))
        c.write32(c.profile.ssyncOffset, 0)
        c.advance(frames: 1)
        #expect(c.status(5).contains(.fifoError) && c.statistics(ofDescriptor: 5).bytesMoved == 4)
        #expect(c.checkInvariants() == [])

        // CRST fault lifted: a fresh CRST 0 -> 1 completes.
        c.faults.crstNeverCompletes = true
        c.write32(HDARegister.gctl, 0)
        c.write32(HDARegister.gctl, GlobalControl.crst)
        c.advance(frames: 100)
        #expect(c.read32(HDARegister.gctl) & GlobalControl.crst == 0)
        c.faults.crstNeverCompletes = false
        c.write32(HDARegister.gctl, 0)
        c.write32(HDARegister.gctl, GlobalControl.crst)
        c.advance(frames: c.profile.crstExitFrames)
        #expect(c.read32(HDARegister.gctl) & GlobalControl.crst != 0)
        #expect(c.checkInvariants() == [])
    }
}
