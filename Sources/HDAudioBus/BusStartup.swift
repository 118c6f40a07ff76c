public import HDAudio
import Synchronization

/// Start-up: controller reset, the capability probe, codec discovery.
extension HDAudioBus {

    static func resetAndProbe(_ p: any HDAPlatform) throws(NTStatus) -> BusConfiguration {
        // Enter reset, then leave it; both polled in link time.
        p.write32(HDARegister.gctl, p.read32(HDARegister.gctl) & ~GlobalControl.crst)
        guard poll(p, limit: controllerResetLimitMicroseconds, every: 10, { p.read32(HDARegister.gctl) & GlobalControl.crst == 0 })
        else { throw .deviceNotReady }
        p.stall(microseconds: 100)
        p.write32(HDARegister.gctl, p.read32(HDARegister.gctl) | GlobalControl.crst)
        guard poll(p, limit: controllerResetLimitMicroseconds, every: 10, { p.read32(HDARegister.gctl) & GlobalControl.crst != 0 })
        else { throw .deviceNotReady }
        // Codecs need 25 frames (521 us) after the link leaves reset.
        p.stall(microseconds: (UInt64(LinkTiming.codecWakeFrames) * 1_000_000 + LinkTiming.framesPerSecond - 1) / LinkTiming.framesPerSecond)
        let statests = p.read16(HDARegister.statests) & SDILines.mask
        p.write16(HDARegister.statests, statests)
        // SDI lines: WAKEEN has one writable bit per line; a controller whose WAKEEN
        // cannot be probed is taken to have all 15.
        p.write16(HDARegister.wakeen, SDILines.mask)
        let wake = p.read16(HDARegister.wakeen) & SDILines.mask
        p.write16(HDARegister.wakeen, 0)
        let sdiLines = wake == 0 ? maxSDILines : (~wake).trailingZeroBitCount
        let gcap = GlobalCapabilities(rawValue: p.read16(HDARegister.gcap))
        let pci = p.pciIdentity
        // The DMA position buffer: one page, 128-byte aligned, enabled by DPLBASE bit 0.
        guard let page = p.allocatePages(count: 1, contiguous: true)?.first else { throw .insufficientResources }
        p.writeMemory(page, bytes: [UInt8](repeating: 0, count: p.pageSize))
        p.write32(HDARegister.dpubase, UInt32(truncatingIfNeeded: page >> 32))
        p.write32(HDARegister.dplbase, UInt32(truncatingIfNeeded: page) | 1)
        // CORB (1 KiB) and RIRB (2 KiB) share one page. A failure from here on undoes the
        // position buffer (DPLBASE off before its page is freed) and the rings: nothing leaks.
        let rings: UInt64
        do throws(NTStatus) {
            guard let page = p.allocatePages(count: 1, contiguous: true)?.first else { throw .insufficientResources }
            rings = page
            p.writeMemory(rings, bytes: [UInt8](repeating: 0, count: p.pageSize))
            do throws(NTStatus) {
                try setUpCommandRings(p, page: rings)
            } catch {
                p.write8(HDARegister.corbctl, 0)
                p.write8(HDARegister.rirbctl, 0)
                p.freePages([rings])
                throw error
            }
        } catch {
            p.write32(HDARegister.dplbase, 0)
            p.write32(HDARegister.dpubase, 0)
            p.freePages([page])
            throw error
        }
        return BusConfiguration(
            gcap: gcap, layout: EngineLayout(gcap),
            versionMajor: p.read8(HDARegister.vmaj), versionMinor: p.read8(HDARegister.vmin),
            outpay: p.read16(HDARegister.outpay), inpay: p.read16(HDARegister.inpay),
            outstrmpay: p.read16(HDARegister.outstrmpay), instrmpay: p.read16(HDARegister.instrmpay),
            codecMask: statests, sdiLines: sdiLines, pci: pci, ssyncOffset: BusConfiguration.ssyncOffset(for: pci),
            positionBuffer: page, commandRings: rings)
    }

    /// Polls `done` every `every` us of stall until it holds or `limit` us have passed
    /// (it is checked once more at the limit).
    static func poll(_ p: any HDAPlatform, limit: UInt64, every: UInt64, _ done: () -> Bool) -> Bool {
        var waited: UInt64 = 0
        while true {
            if done() { return true }
            if waited >= limit { return false }
            p.stall(microseconds: every)
            waited += every
        }
    }

    /// Reads STATESTS again (clearing it) and adds the codecs that appeared since start,
    /// as a bus driver does on a codec's state-change interrupt. Returns the codec mask.
    @discardableResult
    public func rescanCodecs() throws(NTStatus) -> UInt16 {
        try inspecting { s in
            let statests = platform.read16(HDARegister.statests) & SDILines.mask
            platform.write16(HDARegister.statests, statests)
            s.codecMask |= statests & UInt16((1 << configuration.sdiLines) - 1)
            return s.codecMask
        }
    }

    /// The codecs present: one bit per codec address. STATUS_UNSUCCESSFUL above PASSIVE_LEVEL.
    public var codecMask: UInt16 { get throws(NTStatus) { try inspecting { $0.codecMask } } }

    /// The codec mask for the bus's own routines (which check the IRQL themselves).
    var presentCodecs: UInt16 { state.withLock { $0.codecMask } }
}

/// What the bus read from the controller at start (and the PCI quirk it applied).
public struct BusConfiguration: Hashable, Sendable {
    /// GCAP.
    public var gcap: GlobalCapabilities
    /// Stream descriptor layout from GCAP.
    public var layout: EngineLayout
    /// VMAJ.
    public var versionMajor: UInt8
    /// VMIN.
    public var versionMinor: UInt8
    /// OUTPAY, words per frame per SDO line.
    public var outpay: UInt16
    /// INPAY, words per frame per SDI line.
    public var inpay: UInt16
    /// OUTSTRMPAY, words per frame per output stream.
    public var outstrmpay: UInt16
    /// INSTRMPAY, words per frame per input stream.
    public var instrmpay: UInt16
    /// STATESTS at start: one bit per codec present.
    public var codecMask: UInt16
    /// SDI lines (codec addresses 0 ..< sdiLines), probed through WAKEEN.
    public var sdiLines: Int
    /// PCI identity.
    public var pci: PCIIdentity
    /// Where SSYNC is on this controller.
    public var ssyncOffset: UInt32
    /// The DMA position buffer's page.
    public var positionBuffer: UInt64
    /// The page holding CORB (offset 0) and RIRB (offset 2048).
    public var commandRings: UInt64

    /// Intel controllers whose datasheets put SSYNC at 0x34 (ICH6, ICH7, ICH8, ICH9).
    public static let ssyncAt0x34: Set<UInt16> = [0x2668, 0x27D8, 0x284B, 0x293E, 0x293F]

    /// SSYNC's offset for a PCI identity: 0x34 on the Intel ICH6-ICH9 family, else 0x38
    /// (the specification's offset). A chipset quirk, as real bus drivers keep them.
    public static func ssyncOffset(for pci: PCIIdentity) -> UInt32 {
        pci.vendorId == 0x8086 && ssyncAt0x34.contains(pci.deviceId) ? HDARegister.ssyncICH : HDARegister.ssyncSpec
    }

    /// Whether a codec answered at `address` at start.
    public func codecPresent(at address: Int) -> Bool {
        (0..<sdiLines).contains(address) && codecMask & (1 << UInt16(address)) != 0
    }
}
