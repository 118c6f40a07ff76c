import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing
import TestSupport
import Synchronization

@Suite("Bus start-up")
struct StartTests {
    @Test("Start reads GCAP, versions, payloads and STATESTS from the registers", arguments: ControllerProfile.all)
    func startReadsRegisters(profile: ControllerProfile) throws {
        let system = try makeSystem(profile, codecs: [0, 2])
        let c = system.bus.configuration
        #expect(c.gcap == profile.gcap)
        #expect(c.layout == profile.layout)
        #expect(c.versionMajor == profile.vmaj && c.versionMinor == profile.vmin)
        #expect(c.outpay == profile.outpay && c.inpay == profile.inpay)
        #expect(c.outstrmpay == profile.outstrmpay && c.instrmpay == profile.instrmpay)
        #expect(c.codecMask == 0b101)
        #expect(c.sdiLines == profile.sdiLines)
        #expect(c.ssyncOffset == profile.ssyncOffset)
        // The controller left reset: CRST reads 1, and the global interrupt is enabled.
        #expect(system.platform.read32(HDARegister.gctl) & GlobalControl.crst != 0)
        #expect(system.platform.read32(HDARegister.intctl) & InterruptBits.global != 0)
        // The position buffer is enabled; it and the CORB/RIRB page are the only pages the bus holds.
        #expect(system.platform.read32(HDARegister.dplbase) & 1 == 1)
        #expect(system.allocatedPages == 2)
    }

    @Test("A CRST that never completes is STATUS_DEVICE_NOT_READY from start-up")
    func crstNeverCompletes() {
        #expect(throws: AzaliaSystemError.busStart(.deviceNotReady)) {
            _ = try makeSystem(.ich6, faults: FaultInjection(crstNeverCompletes: true))
        }
    }

    @Test("Codec wake: start waits the 25 frames codecs need before reading STATESTS")
    func codecWake() throws {
        let system = try makeSystem(.skylakePCH, codecs: [0, 1, 3])
        #expect((try system.bus.codecMask) == 0b1011)
        #expect(system.frame >= UInt64(LinkTiming.codecWakeFrames))
    }

    @Test("An unknown profile name is refused by AzaliaSystem")
    func unknownProfile() {
        #expect(throws: AzaliaSystemError.unknownProfile("nope")) { _ = try AzaliaSystem(profileNamed: "nope") }
    }


    @Test("A bus start that fails for lack of DMA memory leaves no guest page allocated and no position buffer enabled")
    func startFailureLeaksNothing() throws {
        let memory = GuestMemory(pages: 1)
        let platform = VirtualPlatform(controller: HDAController(profile: .ich6, memory: memory))
        expectStatus(.insufficientResources) { try HDAudioBus(platform: platform) }
        #expect(platform.allocatedPages == 0)
        #expect(platform.read32(HDARegister.dplbase) & 1 == 0)
    }

    @Test("A bus start with no DMA memory at all is INSUFFICIENT_RESOURCES and allocates nothing")
    func startWithoutMemory() throws {
        let memory = GuestMemory(pages: 0)
        let platform = VirtualPlatform(controller: HDAController(profile: .ich6, memory: memory))
        expectStatus(.insufficientResources) { try HDAudioBus(platform: platform) }
        #expect(platform.allocatedPages == 0)
    }
}
