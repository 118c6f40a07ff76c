import HDAudio
import Synchronization

/// Resource bookkeeping under the bus lock: buffers, engines, and link bandwidth charges.
extension HDAudioBus {

    /// Frees an engine's buffer pages and forgets the buffer; the engine must be stopped.
    func releaseBuffer(_ index: Int, _ s: inout BusState) {
        guard var a = s.engines[index].allocation, let buffer = a.buffer else { return }
        makeSafe(index)
        platform.freePages(buffer.allPages)
        a.buffer = nil
        s.engines[index].allocation = a
        refreshInterruptTarget(index, a)
    }

    /// Returns an engine's tag and bandwidth and frees its slot.
    func release(_ index: Int, _ s: inout BusState) {
        guard let a = s.engines[index].allocation else { return }
        s.tagsInUse[a.direction, default: 0] &= ~(1 << UInt16(a.tag))
        for line in 0..<a.charge.sdoLines { s.sdoUsed[line] -= a.charge.sdoBitsPerLine }
        if a.charge.sdiBits > 0 { s.sdiUsed[a.charge.sdiLine] -= a.charge.sdiBits }
        s.engines[index].allocation = nil
        refreshInterruptTarget(index, nil)
        writeStreamByte(index, StreamControl(rawValue: 0))
    }

    /// The charge of a format on this controller, or the status that refuses it:
    /// BUFFER_TOO_SMALL when the FIFO cannot hold one frame of it (OUTSTRMPAY /
    /// INSTRMPAY), INSUFFICIENT_RESOURCES when a line's budget would be exceeded.
    /// `s` must already have the engine's own old charge removed.
    func charge(for format: StreamFormat, direction: StreamDirection, stripeLines: Int, sdiLine: Int,
                in s: BusState) throws(NTStatus) -> LinkCharge {
        let fifoLimit = Int(direction == .render ? configuration.outstrmpay : configuration.instrmpay)
        guard try LinkBudget.fifoWords(format) <= fifoLimit else { throw .bufferTooSmall }
        var c = LinkCharge()
        switch direction {
        case .render:
            c.sdoLines = stripeLines
            c.sdoBitsPerLine = try LinkBudget.outputChargePerLine(format, stripeLines: stripeLines)
            let budget = LinkBudget.sdoLineBudget(outpay: configuration.outpay)
            for line in 0..<stripeLines where s.sdoUsed[line] + c.sdoBitsPerLine > budget { throw .insufficientResources }
        case .capture:
            c.sdiLine = sdiLine
            c.sdiBits = try LinkBudget.inputCost(format)
            guard s.sdiUsed[sdiLine] + c.sdiBits <= LinkBudget.sdiLineBudget(inpay: configuration.inpay)
            else { throw .insufficientResources }
        }
        return c
    }

    func apply(_ c: LinkCharge, sign: Int, _ s: inout BusState) {
        for line in 0..<c.sdoLines { s.sdoUsed[line] += sign * c.sdoBitsPerLine }
        if c.sdiBits > 0 { s.sdiUsed[c.sdiLine] += sign * c.sdiBits }
    }
}
