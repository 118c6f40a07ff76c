import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing
import TestSupport
import Synchronization

/// Output cost per the bandwidth Decision: peak blocks per frame x channels x sample bits.
func outputBits(_ f: StreamFormat) -> Int {
    let r = RateEncoding(rate: f.sampleRate)!
    let peak = Int((r.multiplier + r.divisor - 1) / r.divisor)
    return peak * Int(f.numberOfChannels) * Int(f.validBitsPerSample)
}

/// Input cost per the Decision: a 10-bit header plus the payload padded to bytes.
func inputBits(_ f: StreamFormat) -> Int { 10 + 8 * ((outputBits(f) + 7) / 8) }

@Suite("Link budgets (SDO, SDI, FIFO)")
struct BudgetTests {
    // ICH6: OUTPAY 60 words = 960 bits on SDO0; INPAY 29 words = 464 bits per SDI line.
    static let sdoFill = [StreamFormat(rate: 192_000, bits: 16, channels: 8),   // 512
                          StreamFormat(rate: 192_000, bits: 16, channels: 6),   // 384
                          StreamFormat(rate: 48000, bits: 16, channels: 4)]     // 64

    @Test("SDO: streams filling OUTPAY exactly fit; one more bit does not (INSUFFICIENT_RESOURCES)")
    func sdoExactFill() throws {
        let system = try makeSystem(.ich6)
        let budget = Int(ControllerProfile.ich6.outpay) * 16
        #expect(BudgetTests.sdoFill.map(outputBits).reduce(0, +) == budget)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        var handles: [DmaEngineHandle] = []
        for f in BudgetTests.sdoFill { handles.append(try client.allocateRenderDmaEngine(format: f, stripe: false).handle) }
        #expect((try system.bus.resources()).sdo[0] == BudgetUse(used: budget, budget: budget))
        // An engine is still free, but no bandwidth is.
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        // Freeing an engine returns exactly its bandwidth.
        try client.freeDmaEngine(handles[2])
        #expect((try system.bus.resources()).sdo[0].used == budget - 64)
        expectStatus(.insufficientResources) {
            try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 8, channels: 9), stripe: false)   // 72
        }
        _ = try client.allocateRenderDmaEngine(format: BudgetTests.sdoFill[2], stripe: false)
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("Stripe over 4 SDO lines charges ceil(cost / 4) to each line; lines fill exactly and one stream past fails")
    func stripedFill() throws {
        let system = try makeSystem(.bidirectional4SDO)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let budget = Int(ControllerProfile.bidirectional4SDO.outpay) * 16
        let big = StreamFormat(rate: 192_000, bits: 16, channels: 8)       // 512 -> 128 per line
        for _ in 0..<7 { _ = try client.allocateRenderDmaEngine(format: big, stripe: true) }
        #expect((try system.bus.resources()).sdo.map(\.used) == Array(repeating: 7 * 128, count: 4))
        let tooBig = StreamFormat(rate: 96000, bits: 24, channels: 6)      // 288 -> 72 per line
        #expect((outputBits(tooBig) + 3) / 4 == 72)
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: tooBig, stripe: true) }
        let fits = StreamFormat(rate: 96000, bits: 16, channels: 8)        // 256 -> 64 per line
        _ = try client.allocateRenderDmaEngine(format: fits, stripe: true)
        #expect((try system.bus.resources()).sdo.map(\.used) == Array(repeating: budget, count: 4))
        // The striped engines program STRIPE = 4 lines.
        for e in (try system.bus.resources()).engines {
            #expect(e.stripeLines == 4)
            #expect(system.control(e.index).stripe == .fourLines)
        }
    }

    @Test("Unstriped on a 4-line controller charges SDO0 only; ceil(cost / k) rounds up")
    func unstripedChargesSDO0() throws {
        let system = try makeSystem(.bidirectional4SDO)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let f = StreamFormat(rate: 48000, bits: 20, channels: 3)   // 60 bits
        _ = try client.allocateRenderDmaEngine(format: f, stripe: false)
        #expect((try system.bus.resources()).sdo.map(\.used) == [60, 0, 0, 0])
        _ = try client.allocateRenderDmaEngine(format: f, stripe: true)
        #expect((try system.bus.resources()).sdo.map(\.used) == [75, 15, 15, 15])
        let odd = StreamFormat(rate: 48000, bits: 8, channels: 5)  // 40 bits -> 10 per line
        let g = StreamFormat(rate: 48000, bits: 20, channels: 1)   // 20 bits -> 5 per line
        _ = try client.allocateRenderDmaEngine(format: odd, stripe: true)
        _ = try client.allocateRenderDmaEngine(format: g, stripe: true)
        let h = StreamFormat(rate: 8000, bits: 8, channels: 1)     // 8 bits -> 2 per line
        _ = try client.allocateRenderDmaEngine(format: h, stripe: true)
        #expect((try system.bus.resources()).sdo.map(\.used) == [92, 32, 32, 32])
        let s = StreamFormat(rate: 48000, bits: 8, channels: 3)    // 24 bits -> ceil(24/4) = 6
        _ = try client.allocateRenderDmaEngine(format: s, stripe: true)
        #expect((try system.bus.resources()).sdo.map(\.used) == [98, 38, 38, 38])
    }

    @Test("Stripe on a one-line controller allocates the engine unstriped", arguments: [ControllerProfile.ich6, .skylakePCH])
    func stripeOnOneLine(profile: ControllerProfile) throws {
        let system = try makeSystem(profile)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        _ = try client.allocateRenderDmaEngine(format: F.cd, stripe: true)
        let e = try #require((try system.bus.resources()).engines.first)
        #expect(e.stripeLines == 1)
        #expect(system.control(e.index).stripe == .oneLine)
        #expect((try system.bus.resources()).sdo == [BudgetUse(used: outputBits(F.cd), budget: Int(profile.outpay) * 16)])
    }

    // Input: 4 streams whose costs add up to INPAY x 16 = 464 exactly.
    static let sdiFill = [StreamFormat(rate: 192_000, bits: 16, channels: 3),   // 10 + 192
                          StreamFormat(rate: 96000, bits: 16, channels: 4),     // 10 + 128
                          StreamFormat(rate: 96000, bits: 16, channels: 2)]     // 10 + 64
    static let sdiLast = StreamFormat(rate: 48000, bits: 8, channels: 5)        // 10 + 40
    static let sdiPast = StreamFormat(rate: 48000, bits: 8, channels: 6)        // 10 + 48

    @Test("SDI: captures on one codec address fill INPAY exactly; one past fails; another address has its own budget")
    func sdiPerCodecAddress() throws {
        let system = try makeSystem(.skylakePCH)
        let budget = Int(ControllerProfile.skylakePCH.inpay) * 16
        #expect((BudgetTests.sdiFill + [BudgetTests.sdiLast]).map(inputBits).reduce(0, +) == budget)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        for f in BudgetTests.sdiFill { _ = try client.allocateCaptureDmaEngine(codecAddress: 1, format: f) }
        expectStatus(.insufficientResources) { try client.allocateCaptureDmaEngine(codecAddress: 1, format: BudgetTests.sdiPast) }
        _ = try client.allocateCaptureDmaEngine(codecAddress: 1, format: BudgetTests.sdiLast)
        let r = (try system.bus.resources())
        #expect(r.sdi[1] == BudgetUse(used: budget, budget: budget))
        #expect(r.sdi[0].used == 0 && r.sdi[2].used == 0)
        // SDO is untouched by capture, and codec 2's line is free.
        #expect(r.sdo[0].used == 0)
        _ = try client.allocateCaptureDmaEngine(codecAddress: 2, format: BudgetTests.sdiPast)
        expectStatus(.insufficientResources) { try client.allocateCaptureDmaEngine(codecAddress: 1, format: F.small) }
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("A format whose frame does not fit the output FIFO (OUTSTRMPAY) is STATUS_BUFFER_TOO_SMALL; one that just fits is allocated")
    func outputFifo() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let limit = Int(ControllerProfile.ich6.outstrmpay)
        let exact = StreamFormat(rate: 192_000, bits: 16, channels: 12)   // 4 x 12 x 2 bytes = 48 words
        let over = StreamFormat(rate: 192_000, bits: 16, channels: 13)    // 52 words
        #expect(4 * 12 * 2 / 2 == limit)
        expectStatus(.bufferTooSmall) { try client.allocateRenderDmaEngine(format: over, stripe: false) }
        expectStatus(.bufferTooSmall) { try client.allocateRenderDmaEngine(format: StreamFormat(rate: 192_000, bits: 32, channels: 8), stripe: false) }
        #expect((try system.bus.resources()).engines.isEmpty)
        _ = try client.allocateRenderDmaEngine(format: exact, stripe: false)
    }

    @Test("A format whose frame does not fit the input FIFO (INSTRMPAY) is STATUS_BUFFER_TOO_SMALL")
    func inputFifo() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        #expect(4 * 6 * 2 / 2 == Int(ControllerProfile.ich6.instrmpay))
        expectStatus(.bufferTooSmall) {
            try client.allocateCaptureDmaEngine(codecAddress: 0, format: StreamFormat(rate: 192_000, bits: 16, channels: 7))
        }
        _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: StreamFormat(rate: 192_000, bits: 16, channels: 6))
    }

    @Test("SDI budget per codec address: filled exactly to INPAY x 16 bits, one stream past it refused, other lines independent")
    func sdiBudgetExact() throws {
        let system = try makeSystem(.skylakePCH, codecs: [0, 1])
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let eight = StreamFormat(rate: 48000, bits: 16, channels: 8)    // 10 + 128 = 138 bits
        let twenty = StreamFormat(rate: 48000, bits: 20, channels: 2)   // 10 + 8 x ceil(40 / 8) = 50 bits
        for _ in 0..<3 { _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: eight) }
        _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: twenty)
        #expect((try system.bus.resources()).sdi[0] == BudgetUse(used: 464, budget: 0x1D * 16))
        let before = (try system.bus.resources())
        expectStatus(.insufficientResources) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small) }
        #expect((try system.bus.resources()) == before)
        _ = try client.allocateCaptureDmaEngine(codecAddress: 1, format: F.small)
        #expect((try system.bus.resources()).sdi[1].used == 18)
    }

    @Test("A striped stream needs its share on every line, SDO0 included; blocks per frame follow ceil(m / d) and the 44.1 kHz multiplier")
    func stripedBudget() throws {
        let system = try makeSystem(.bidirectional4SDO)   // 4 SDO lines of 960 bits
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let big = StreamFormat(rate: 96000, bits: 16, channels: 16)   // 2 x 16 x 16 = 512: 128 per line
        var handles: [DmaEngineHandle] = []
        for _ in 0..<6 { handles.append(try client.allocateRenderDmaEngine(format: big, stripe: true).handle) }
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 32, channels: 8), stripe: true)   // 64 per line
        #expect((try system.bus.resources()).sdo.map(\.used) == [832, 832, 832, 832])
        try client.freeDmaEngine(handles[0])
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 16, channels: 8), stripe: false)   // 128 on SDO0
        #expect((try system.bus.resources()).sdo.map(\.used) == [832, 704, 704, 704])
        _ = try client.allocateRenderDmaEngine(format: big, stripe: true)
        #expect((try system.bus.resources()).sdo.map(\.used) == [960, 832, 832, 832])
        let full = (try system.bus.resources())
        #expect(full.engines.count == 8)
        // Blocks per frame: 88.2 kHz carries 2 per frame at most, 32 kHz 1, 11.025 kHz 1.
        let other = try makeSystem(.ich6)
        let c2 = try other.openInterface(codecAddress: 0, version: .base)
        for (rate, bits): (UInt32, Int) in [(88200, 64), (32000, 32), (11025, 32), (176_400, 128), (64000, 64), (144_000, 96)] {
            let a = try c2.allocateRenderDmaEngine(format: StreamFormat(rate: rate, bits: 16, channels: 2), stripe: false)
            #expect((try other.bus.resources()).engines.first { $0.tag == 1 }?.bitsPerLine == bits, "\(rate) Hz")
            try c2.freeDmaEngine(a.handle)
        }
    }
}

@Suite("ChangeBandwidthAllocation")
struct ChangeBandwidthTests {
    @Test("ChangeBandwidthAllocation re-checks with the engine's own reservation released and returns the new converter format")
    func changeSucceeds() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 192_000, bits: 16, channels: 8), stripe: false) // 512
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 192_000, bits: 16, channels: 6), stripe: false)     // 384
        // 512 -> 576 needs 64 more than is free beyond its own 512: 960 - 384 = 576 fits exactly.
        let bigger = StreamFormat(rate: 192_000, bits: 24, channels: 6)   // 4 x 6 x 24 = 576
        let cf = try client.changeBandwidthAllocation(a.handle, format: bigger)
        #expect(cf == (try ConverterFormat(bigger)))
        #expect((try system.bus.resources()).sdo[0].used == 960)
        let smaller = try client.changeBandwidthAllocation(a.handle, format: F.stereo48)
        #expect(smaller == (try ConverterFormat(F.stereo48)))
        #expect((try system.bus.resources()).sdo[0].used == 384 + 32)
        #expect((try system.bus.resources()).engines.first { $0.tag == 1 }?.format == F.stereo48)
    }

    @Test("ChangeBandwidthAllocation failures leave the old format and reservation exactly as they were")
    func failuresLeaveReservation() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 192_000, bits: 16, channels: 8), stripe: false) // 512
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 192_000, bits: 16, channels: 6), stripe: false)     // 384
        let before = (try system.bus.resources())
        // Too much bandwidth (640 > 576), a FIFO overflow, an invalid format.
        expectStatus(.insufficientResources) {
            try client.changeBandwidthAllocation(a.handle, format: StreamFormat(rate: 192_000, bits: 16, channels: 10))
        }
        expectStatus(.bufferTooSmall) {
            try client.changeBandwidthAllocation(a.handle, format: StreamFormat(rate: 192_000, bits: 32, channels: 8))
        }
        for bad in F.invalid {
            expectStatus(.invalidParameter) { try client.changeBandwidthAllocation(a.handle, format: bad) }
        }
        #expect((try system.bus.resources()) == before)
        // What is left is exactly 64 bits: a 64-bit stream fits, a 72-bit one does not.
        expectStatus(.insufficientResources) {
            try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 8, channels: 9), stripe: false)
        }
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 16, channels: 4), stripe: false)
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("ChangeBandwidthAllocation on a capture engine re-checks its own SDI line")
    func captureChange() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateCaptureDmaEngine(codecAddress: 2, format: BudgetTests.sdiFill[0])
        _ = try client.allocateCaptureDmaEngine(codecAddress: 2, format: BudgetTests.sdiFill[1])
        _ = try client.allocateCaptureDmaEngine(codecAddress: 2, format: BudgetTests.sdiFill[2])
        // 202 + 138 + 74 = 414 of 464: the first engine's 202 may grow to 252 but not to 266.
        expectStatus(.insufficientResources) {
            try client.changeBandwidthAllocation(a.handle, format: StreamFormat(rate: 96000, bits: 16, channels: 8))  // 10 + 256
        }
        #expect((try system.bus.resources()).sdi[2].used == 414)
        _ = try client.changeBandwidthAllocation(a.handle, format: StreamFormat(rate: 96000, bits: 20, channels: 6)) // 10 + 240
        #expect((try system.bus.resources()).sdi[2].used == 138 + 74 + 250)
    }

    @Test("ChangeBandwidthAllocation with a buffer attached or out of reset is STATUS_INVALID_DEVICE_REQUEST")
    func changeNeedsResetWithoutBuffer() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let before = (try system.bus.resources())
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try client.changeBandwidthAllocation(a.handle, format: F.small) }
        try client.setDmaEngineState(.stop, handles: [a.handle])
        expectStatus(.invalidDeviceRequest) { try client.changeBandwidthAllocation(a.handle, format: F.small) }
        try client.setDmaEngineState(.reset, handles: [a.handle])
        try client.freeDmaBuffer(a.handle)
        #expect((try system.bus.resources()).sdo == before.sdo)
        _ = try client.changeBandwidthAllocation(a.handle, format: F.small)
    }


    @Test("ChangeBandwidthAllocation failures (INVALID_PARAMETER, BUFFER_TOO_SMALL, INSUFFICIENT_RESOURCES) leave the reservation exactly as it was")
    func changeBandwidthAtomic() throws {
        let system = try makeSystem(.ich6)   // SDO0 budget 0x3C x 16 = 960 bits, OUTSTRMPAY 48 words
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)                                 // 32 bits
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 16, channels: 8), stripe: false) // 128
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 32, channels: 8), stripe: false) // 256
        let filled = (try system.bus.resources())
        #expect(filled.sdo[0].used == 32 + 128 + 256)
        expectStatus(.invalidParameter) { try client.changeBandwidthAllocation(a.handle, format: F.invalid[0]) }
        #expect((try system.bus.resources()) == filled)
        // 192 kHz x 16 ch x 32 bit: 4 x 16 x 4 / 2 = 128 FIFO words > 48.
        expectStatus(.bufferTooSmall) { try client.changeBandwidthAllocation(a.handle, format: StreamFormat(rate: 192_000, bits: 32, channels: 16)) }
        #expect((try system.bus.resources()) == filled)
        // 96 kHz x 12 ch x 32 bit: 48 FIFO words (fits), 768 bits > the 960 - 384 = 576 left with a's own 32 released.
        expectStatus(.insufficientResources) { try client.changeBandwidthAllocation(a.handle, format: StreamFormat(rate: 96000, bits: 32, channels: 12)) }
        #expect((try system.bus.resources()) == filled)
        // 96 kHz x 12 ch x 24 bit: 576 bits, exactly what is left once a's own reservation is released.
        let exact = StreamFormat(rate: 96000, bits: 24, channels: 12)
        let converter = try client.changeBandwidthAllocation(a.handle, format: exact)
        #expect(converter == (try ConverterFormat(exact)))
        #expect((try system.bus.resources()).sdo[0].used == 960)
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        #expect((try system.bus.checkInvariants()).isEmpty)
    }
}
