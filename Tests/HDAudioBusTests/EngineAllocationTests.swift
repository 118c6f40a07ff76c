import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing

/// A profile with 15 output and 15 bidirectional engines: more render-capable engines
/// than tags, so the tag namespace runs out before the engines do.
let tagHungry = ControllerProfile(
    name: "tag-hungry", summary: "15 out, 0 in, 15 bidirectional",
    gcap: GlobalCapabilities(outputEngines: 15, inputEngines: 0, bidirectionalEngines: 15, sdoLines: 1, supports64Bit: true),
    pciVendor: 0x1B36, pciDevice: 0xA2A2, revision: 1, ssyncOffset: HDARegister.ssyncSpec, crstExitFrames: 2, srstFrames: 1)

/// A profile with 8 input engines and 8 bidirectional ones, to exhaust input tags.
let captureHungry = ControllerProfile(
    name: "capture-hungry", summary: "0 out, 15 in, 15 bidirectional",
    gcap: GlobalCapabilities(outputEngines: 0, inputEngines: 15, bidirectionalEngines: 15, sdoLines: 1, supports64Bit: true),
    pciVendor: 0x1B36, pciDevice: 0xA2A3, revision: 1, ssyncOffset: HDARegister.ssyncSpec, crstExitFrames: 2, srstFrames: 1)

@Suite("Engine allocation (AllocateRender/CaptureDmaEngine)")
struct EngineAllocationTests {
    @Test("Render takes the lowest free output engine, then bidirectional ones with DIR = output, then is INSUFFICIENT_RESOURCES",
          arguments: ControllerProfile.all)
    func renderSelectionOrder(profile: ControllerProfile) throws {
        let system = try makeSystem(profile)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let layout = profile.layout
        let expected = Array(layout.indices(of: .output)) + Array(layout.indices(of: .bidirectional))
        var taken: [Int] = []
        for n in 0..<expected.count {
            let a = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
            let tag = UInt8(n + 1)
            let index = try #require(system.engineIndex(tag: tag, .render))
            taken.append(index)
            #expect(system.control(index).streamTag == tag)
            if layout.kind(of: index) == .bidirectional { #expect(system.control(index).directionOutput) }
            _ = a
        }
        #expect(taken == expected)
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        #expect(system.bus.checkInvariants().isEmpty)
    }

    @Test("Capture takes the lowest free input engine, then bidirectional ones with DIR = input, then is INSUFFICIENT_RESOURCES",
          arguments: ControllerProfile.all)
    func captureSelectionOrder(profile: ControllerProfile) throws {
        let system = try makeSystem(profile)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let layout = profile.layout
        let expected = Array(layout.indices(of: .input)) + Array(layout.indices(of: .bidirectional))
        var taken: [Int] = []
        for n in 0..<expected.count {
            _ = try client.allocateCaptureDmaEngine(codecAddress: n % 3, format: F.small)
            let index = try #require(system.engineIndex(tag: UInt8(n + 1), .capture))
            taken.append(index)
            #expect(!system.control(index).directionOutput)
        }
        #expect(taken == expected)
        expectStatus(.insufficientResources) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small) }
    }

    @Test("A freed engine is the next one taken (lowest free first)")
    func freedEngineReused() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let handles = try (0..<4).map { _ in try client.allocateRenderDmaEngine(format: F.small, stripe: false).handle }
        let second = try #require(system.engineIndex(tag: 2, .render))
        try client.freeDmaEngine(handles[1])
        _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
        // The lowest free tag (2) and the lowest free engine come back.
        #expect(system.engineIndex(tag: 2, .render) == second)
    }

    @Test("Stream tags are per direction, 1 to 15, unique; a direction with no free tag is INSUFFICIENT_RESOURCES")
    func tagsPerDirection() throws {
        let system = try makeSystem(tagHungry)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        for _ in 1...15 { _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        let r = system.bus.resources()
        #expect(r.tags[.render] == Set(1...15))
        #expect(r.engines.count == 15)
        // 15 bidirectional engines are still free, but no render tag is.
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        // Capture has its own namespace: tag 1 again, on a bidirectional engine.
        _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small)
        let capture = try #require(system.bus.resources().engines.first { $0.direction == .capture })
        #expect(capture.tag == 1)
        #expect(capture.kind == .bidirectional)
        #expect(system.bus.checkInvariants().isEmpty)
    }

    @Test("Capture tags run out after 15 engines too")
    func captureTagsRunOut() throws {
        let system = try makeSystem(captureHungry)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        for n in 0..<15 { _ = try client.allocateCaptureDmaEngine(codecAddress: n % 3, format: F.small) }
        expectStatus(.insufficientResources) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small) }
        _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
    }

    @Test("The converter format returned is the vocabulary's encoding of the format",
          arguments: [F.small, F.cd, F.stereo48, StreamFormat(rate: 96000, bits: 24, channels: 2),
                      StreamFormat(rate: 32000, bits: 20, channels: 1), StreamFormat(rate: 11025, bits: 32, channels: 4)])
    func converterFormat(format: StreamFormat) throws {
        let system = try makeSystem(.bidirectional4SDO)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let render = try client.allocateRenderDmaEngine(format: format, stripe: false)
        let capture = try client.allocateCaptureDmaEngine(codecAddress: 1, format: format)
        #expect(render.converterFormat == (try ConverterFormat(format)))
        #expect(capture.converterFormat == (try ConverterFormat(format)))
    }

    @Test("An invalid format is STATUS_INVALID_PARAMETER and takes nothing", arguments: F.invalid)
    func invalidFormat(format: StreamFormat) throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        expectStatus(.invalidParameter) { try client.allocateRenderDmaEngine(format: format, stripe: false) }
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: format) }
        #expect(system.bus.resources().engines.isEmpty)
    }

    @Test("A capture codec address with no SDI line or no codec present is STATUS_INVALID_PARAMETER",
          arguments: [-1, 3, 14, 15, 16, 1000])
    func badCodecAddress(address: Int) throws {
        let system = try makeSystem(.ich6, codecs: [0, 1, 2])
        let client = try system.openInterface(codecAddress: 0, version: .base)
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: address, format: F.small) }
        #expect(system.bus.resources().engines.isEmpty)
    }

    @Test("A codec attached after start can be captured from once the bus sees it in STATESTS")
    func codecAttachedLater() throws {
        let system = try makeSystem(.ich6, codecs: [0])
        let client = try system.openInterface(codecAddress: 0, version: .base)
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: 5, format: F.small) }
        let attached = system.attach(QuietCodec(), at: 5)
        #expect(attached)
        _ = try client.allocateCaptureDmaEngine(codecAddress: 5, format: F.small)
    }

    @Test("The engine is in reset after allocation: SRST handshake done, RUN = 0, tag programmed")
    func engineInResetAfterAllocation() throws {
        let system = try makeSystem(.skylakePCH)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        _ = try client.allocateRenderDmaEngine(format: F.cd, stripe: false)
        let index = try #require(system.engineIndex(tag: 1, .render))
        let ctl = system.control(index)
        #expect(!ctl.streamReset && !ctl.run)
        #expect(ctl.streamTag == 1)
        #expect(system.bus.resources().engines.first?.state == .reset)
        #expect(!system.platform.withController { $0.isMoving(descriptor: index) })
    }

    @Test("An SRST that never completes during allocation is STATUS_DEVICE_NOT_READY and keeps nothing")
    func allocationSrstFault() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let firstOutput = ControllerProfile.ich6.layout.indices(of: .output).lowerBound
        system.setFaults(FaultInjection(srstNeverLatches: [firstOutput]))
        let before = system.frame
        expectStatus(.deviceNotReady) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        // Polled for 300 us of link time (15 frames, rounded up to the next poll).
        #expect(system.frame - before >= 14 && system.frame - before <= 16)
        #expect(system.bus.resources().engines.isEmpty)
        #expect(system.bus.checkInvariants().isEmpty)
        system.setFaults(FaultInjection())
        _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
    }
}
