import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing
import TestSupport
import Synchronization

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
        #expect((try system.bus.checkInvariants()).isEmpty)
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
        let r = (try system.bus.resources())
        #expect(r.tags[.render] == Set(1...15))
        #expect(r.engines.count == 15)
        // 15 bidirectional engines are still free, but no render tag is.
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        // Capture has its own namespace: tag 1 again, on a bidirectional engine.
        _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small)
        let capture = try #require((try system.bus.resources()).engines.first { $0.direction == .capture })
        #expect(capture.tag == 1)
        #expect(capture.kind == .bidirectional)
        #expect((try system.bus.checkInvariants()).isEmpty)
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
        #expect((try system.bus.resources()).engines.isEmpty)
    }

    @Test("A capture codec address with no SDI line or no codec present is STATUS_INVALID_PARAMETER",
          arguments: [-1, 3, 14, 15, 16, 1000])
    func badCodecAddress(address: Int) throws {
        let system = try makeSystem(.ich6, codecs: [0, 1, 2])
        let client = try system.openInterface(codecAddress: 0, version: .base)
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: address, format: F.small) }
        #expect((try system.bus.resources()).engines.isEmpty)
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
        #expect((try system.bus.resources()).engines.first?.state == .reset)
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
        #expect((try system.bus.resources()).engines.isEmpty)
        #expect((try system.bus.checkInvariants()).isEmpty)
        system.setFaults(FaultInjection())
        _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
    }

    @Test("Tag exhaustion: the 16th render engine of a controller with 16 render-capable engines is INSUFFICIENT_RESOURCES and charges nothing")
    func tagExhaustion() throws {
        let gcap = GlobalCapabilities(outputEngines: 15, inputEngines: 1, bidirectionalEngines: 1, sdoLines: 1, supports64Bit: true)
        let profile = ControllerProfile(name: "sixteen-render", summary: "15 out, 1 in, 1 bidirectional", gcap: gcap,
                                        outpay: 0x3C, inpay: 0x1D, outstrmpay: 0x30, instrmpay: 0x18,
                                        pciVendor: 0x8086, pciDevice: 0x9D70, revision: 1, ssyncOffset: HDARegister.ssyncSpec,
                                        sdiLines: 3, crstExitFrames: 1, srstFrames: 1)
        let system = try makeSystem(profile)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        var tags: Set<UInt8> = []
        for _ in 0..<15 {
            let a = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
            _ = a
        }
        for e in (try system.bus.resources()).engines { tags.insert(e.tag) }
        #expect(tags == Set(1...15))
        let before = (try system.bus.resources())
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        #expect((try system.bus.resources()) == before)
        // Capture still has its own 15 tags: the input engine, then the bidirectional one.
        let c1 = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small)
        let c2 = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small)
        _ = (c1, c2)
        let captures = (try system.bus.resources()).engines.filter { $0.direction == .capture }
        #expect(captures.map(\.tag).sorted() == [1, 2] && captures.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.bidirectional, .input])
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("Bidirectional fallback: render sets DIR = 1 and gets the output FIFO, capture DIR = 0 and the input FIFO")
    func bidirectionalFallbackFifo() throws {
        let system = try makeSystem(.bidirectional4SDO)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let f24 = StreamFormat(rate: 48000, bits: 24, channels: 2)
        for _ in 0..<4 { _ = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false) }
        for _ in 0..<4 { _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.stereo48) }
        let r = try client.allocateRenderDmaEngine(format: f24, stripe: false)
        let c = try client.allocateCaptureDmaEngine(codecAddress: 1, format: f24)
        let rb = try client.allocateDmaBuffer(r.handle, requestedBufferSize: 4096)
        let cb = try client.allocateDmaBuffer(c.handle, requestedBufferSize: 4096)
        let rIndex = try #require(system.engineIndex(tag: 5, .render))
        let cIndex = try #require(system.engineIndex(tag: 5, .capture))
        #expect(rIndex == 8 && cIndex == 9)
        #expect(system.control(rIndex).directionOutput && !system.control(cIndex).directionOutput)
        #expect(rb.fifoSize == 256 && cb.fifoSize == 160)   // ICH6 rule for 24-bit samples
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: 3, format: F.stereo48) }   // no codec
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: 15, format: F.stereo48) }
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: -1, format: F.stereo48) }
    }

    static let encodings: [(rate: UInt32, valid: UInt16, container: UInt16, channels: UInt16, expected: UInt16?)] = [
        (48000, 16, 16, 2, 0x0011), (44100, 16, 16, 2, 0x4011), (96000, 24, 32, 2, 0x0831), (7350, 16, 16, 2, 0x4511),
        (12000, 16, 16, 2, 0x0311), (64000, 16, 16, 2, 0x1A11), (144_000, 16, 16, 2, 0x1011), (132_300, 8, 8, 1, 0x5000),
        (48000, 16, 32, 2, 0x0011), (48000, 20, 32, 2, 0x0021), (48000, 32, 32, 8, 0x0047), (6000, 8, 8, 1, 0x0700),
        (384_000, 16, 16, 2, nil), (4000, 16, 16, 2, nil), (48000, 24, 16, 2, nil), (48000, 20, 16, 2, nil), (48000, 24, 24, 2, nil),
        (48000, 16, 16, 0, nil), (48000, 16, 16, 17, nil), (48000, 12, 16, 2, nil), (0, 16, 16, 2, nil), (48001, 16, 16, 2, nil),
        (48000, 8, 32, 2, 0x0001), (48000, 0, 16, 2, nil),
    ]

    @Test("The bus returns the vocabulary's encoding of every legal format and INVALID_PARAMETER for every illegal one, for render and capture")
    func converterFormats() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        for e in EngineAllocationTests.encodings {
            let format = StreamFormat(sampleRate: e.rate, validBitsPerSample: e.valid, containerSize: e.container, numberOfChannels: e.channels)
            if let expected = e.expected {
                let r = try client.allocateRenderDmaEngine(format: format, stripe: false)
                let c = try client.allocateCaptureDmaEngine(codecAddress: 0, format: format)
                #expect(r.converterFormat.rawValue == expected && c.converterFormat.rawValue == expected, "\(format)")
                try client.freeDmaEngine(r.handle)
                try client.freeDmaEngine(c.handle)
            } else {
                expectStatus(.invalidParameter) { try client.allocateRenderDmaEngine(format: format, stripe: false) }
                expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: format) }
            }
            #expect((try system.bus.resources()).engines.isEmpty)
        }
    }

    @Test("AllocateCaptureDmaEngine whose SRST never completes is STATUS_DEVICE_NOT_READY and keeps nothing")
    func captureResetFails() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let before = (try system.bus.resources())
        let pages = system.allocatedPages
        system.setFaults(FaultInjection(srstNeverLatches: [0]))   // input engine 0 is the first capture choice
        expectStatus(.deviceNotReady) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.stereo48) }
        #expect((try system.bus.resources()) == before)
        #expect(system.allocatedPages == pages)
        system.setFaults(FaultInjection())
        let c = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.stereo48)
        try client.freeDmaEngine(c.handle)
    }
}
