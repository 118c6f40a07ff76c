import HDAudio

/// The CORB/RIRB command path's internal state.
///
/// Timing (Azalia's model of the link): the SDO command field carries one verb per frame,
/// so at most one verb per codec per frame leaves the CORB; the codec answers on its SDI
/// line in the next frame, and the response lands in the RIRB at the end of that frame.
/// Each codec's SDI response slot carries one response per frame: a solicited response
/// takes it before an unsolicited one.
struct CommandRings {
    /// A verb sent, whose response arrives in frame `due`.
    var inFlight: (address: Int, response: UInt32, due: UInt64)?
    /// Responses written since RINTFL was last raised.
    var responseCount = 0
    /// Unsolicited responses polled from each codec, waiting for its SDI slot.
    var unsolicited: [UInt32?] = Array(repeating: nil, count: SDILines.maximum)
    /// Whether an unsolicited response waits for the link (sent, or dropped when UNSOL is off).
    var hasUnsolicited: Bool { unsolicited.contains { $0 != nil } }
    /// The Immediate Command interface's verb under way.
    var immediate = ImmediateCommandState()
}

extension HDAController {
    /// Ring entries for a CORBSIZE / RIRBSIZE value (00 = 2, 01 = 16, 10 = 256; 11 reads as 256).
    func ringEntries(_ sizeRegister: Int) -> Int { RingSize.entries(UInt8(truncatingIfNeeded: values[sizeRegister])) }

    /// CIS: RINTFL with RINTCTL, RIRBOIS with RIRBOIC, CMEI with CMEIE, or an SDIN state
    /// change (a STATESTS bit whose WAKEEN bit is set), as Intel's INTSTS.CIS and QEMU's
    /// intel-hda define it.
    func controllerInterruptStatus() -> Bool {
        let rirbsts = values[table.rirbsts], rirbctl = values[table.rirbctl]
        let corbsts = values[table.corbsts], corbctl = values[table.corbctl]
        return (rirbsts & UInt32(RirbStatus.responseInterrupt) != 0 && rirbctl & UInt32(RirbControl.responseInterrupt) != 0)
            || (rirbsts & UInt32(RirbStatus.overrun) != 0 && rirbctl & UInt32(RirbControl.overrunInterrupt) != 0)
            || (corbsts & UInt32(CorbStatus.memoryError) != 0 && corbctl & UInt32(CorbControl.memoryErrorInterrupt) != 0)
            || (values[table.statests] & values[table.wakeen] != 0)
    }

    /// True when the CORB has a verb to send.
    var corbHasWork: Bool {
        guard values[table.corbctl] & UInt32(CorbControl.run) != 0 else { return false }
        // Both pointers sit in bits 7:0 and the ring has 2, 16 or 256 entries, so the
        // pointers modulo the size are their bits under entries - 1.
        let mask = UInt32(ringEntries(table.corbsize)) - 1
        return (values[table.corbrp] ^ values[table.corbwp]) & mask != 0
    }

    /// The next frame at which the command path has work, if any: while verbs, responses
    /// or unsolicited responses are under way, time moves one frame at a time. Unsolicited
    /// responses are polled here, at every batch boundary, when GCTL.UNSOL is set and the
    /// codecs have woken (`LinkTiming.codecWakeFrames` after CRST exit): a waking codec
    /// sends nothing. See `LinkCodec.linkPollUnsolicited` for when a codec may queue one.
    func nextCommandFrame() -> UInt64? {
        guard !inReset else { return nil }
        var busy = corb.inFlight != nil || corb.responseCount > 0 || corbHasWork || corb.immediate.busy
        if codecsAwake && values[table.gctl] & GlobalControl.unsol != 0 {
            for address in codecs.indices where corb.unsolicited[address] == nil {
                if let codec = codecs[address], let response = codec.linkPollUnsolicited() {
                    corb.unsolicited[address] = response
                }
            }
            if corb.hasUnsolicited { busy = true }
        }
        return busy ? frame.addingSaturated(1) : nil
    }

    /// Runs the command path over frames [start, end); it only has work when
    /// `nextCommandFrame` made the batch one frame long.
    ///
    /// Before the codecs wake (`codecsAwake`, `LinkTiming.codecWakeFrames` after CRST exit)
    /// the CORB still sends its verbs on the link, but no codec hears or answers them: the
    /// verb's response never comes (a driver times it out).
    ///
    /// **Decision** (against QEMU's intel-hda): RINTCNT only says after how many responses
    /// RIRBSTS.RINTFL is raised; nothing in the specification stops the CORB while RINTFL
    /// is set, so verbs keep leaving while CORBRUN is 1 and the RIRB takes their responses
    /// (the controller cannot know how far software has read the RIRB). QEMU stops fetching verbs once RINTCNT
    /// responses are written until software clears RINTFL; a driver that polls RIRBWP
    /// without clearing RINTFL (Linux's polling mode, which it uses when no interrupt
    /// comes) then stalls there and falls back to the Immediate Command registers.
    func runCommandRings(from start: UInt64, to end: UInt64) {
        guard !inReset, end &- start == 1 else { return }
        runImmediateCommand(from: start, to: end)
        var wrote = false
        var busyAddress = -1
        // Responses arriving in this frame: the solicited one first.
        if let flight = corb.inFlight, flight.due <= start {
            corb.inFlight = nil
            busyAddress = flight.address
            writeResponse(flight.response, address: flight.address, unsolicited: false)
            wrote = true
        }
        for address in corb.unsolicited.indices where address != busyAddress {
            if let response = corb.unsolicited[address] {
                corb.unsolicited[address] = nil
                if values[table.gctl] & GlobalControl.unsol != 0 {
                    writeResponse(response, address: address, unsolicited: true)
                    wrote = true
                }
            }
        }
        // One verb leaves the CORB in this frame.
        if corbHasWork {
            let entries = UInt32(ringEntries(table.corbsize))
            let rp = (CorbReadPointer.pointer.extract(word: values[table.corbrp]) + 1) % entries
            let base = UInt64(values[table.corbubase]) << 32 | UInt64(values[table.corblbase])
            if let verb = try? memory.readUInt32(GuestAddress(base &+ UInt64(rp) * UInt64(CorbEntry.size))),
               memory.isRAM(GuestAddress(base), length: UInt64(entries) * UInt64(CorbEntry.size)) {
                values[table.corbrp] = CorbReadPointer.pointer.inserting(word: rp, into: values[table.corbrp])
                let address = Int(CorbEntry.codecAddress.extract(verb))
                if codecsAwake, codecs.indices.contains(address), let codec = codecs[address],
                   let response = codec.linkCommand(verb) {
                    corb.inFlight = (address, response, end)
                }
            } else {
                // The CORB is not RAM: memory error, the CORB DMA stops.
                values[table.corbsts] |= UInt32(CorbStatus.memoryError)
                values[table.corbctl] &= ~UInt32(CorbControl.run)
            }
        }
        // An empty response slot after responses raises RINTFL (the specification's
        // "N responses or an empty response slot, whichever comes first").
        if !wrote && corb.responseCount > 0 {
            corb.responseCount = 0
            values[table.rirbsts] |= UInt32(RirbStatus.responseInterrupt)
        }
    }

    /// Writes one response into the RIRB: the 32-bit response, then bits 3:0 codec address
    /// and bit 4 unsolicited. RINTFL after RINTCNT responses (0 means 256). A response that
    /// cannot be written (RIRB DMA off, or the RIRB is not RAM) is dropped and sets RIRBOIS.
    func writeResponse(_ response: UInt32, address: Int, unsolicited: Bool) {
        let entries = UInt32(ringEntries(table.rirbsize))
        let base = GuestAddress(UInt64(values[table.rirbubase]) << 32 | UInt64(values[table.rirblbase]))
        guard values[table.rirbctl] & UInt32(RirbControl.dmaEnable) != 0,
              memory.isRAM(base, length: UInt64(entries) * UInt64(RirbEntry.size)) else {
            values[table.rirbsts] |= UInt32(RirbStatus.overrun)
            return
        }
        let wp = (RirbWritePointer.pointer.extract(word: values[table.rirbwp]) + 1) % entries
        let at = base.rawValue + UInt64(wp) * UInt64(RirbEntry.size)
        try? memory.writeUInt32(GuestAddress(at), response)
        try? memory.writeUInt32(GuestAddress(at + 4), RirbEntry.codecAddress.placing(UInt32(address))
                                | RirbEntry.unsolicited.placing(unsolicited ? 1 : 0))
        values[table.rirbwp] = wp
        corb.responseCount += 1
        let threshold = ResponseInterruptCount.count.extract(word: values[table.rintcnt])
        if corb.responseCount >= (threshold == 0 ? 256 : Int(threshold)) {
            corb.responseCount = 0
            values[table.rirbsts] |= UInt32(RirbStatus.responseInterrupt)
        }
    }

    /// Side effects of a CORB/RIRB register write: the pointer reset bits (CORBRP bit 15
    /// zeroes the read pointer and reads back 1 until cleared; RIRBWP bit 15 zeroes the
    /// write pointer and reads 0), sizes fixed while the ring runs, interrupts updated.
    func writeCommandRing(_ role: RegisterRole, register r: Int, old: UInt32, value: UInt32, lanes: UInt32) {
        switch role {
        case .corbrp:
            if values[r] & UInt32(CorbReadPointer.reset) != 0 { values[r] = UInt32(CorbReadPointer.reset) }
        case .rirbwp:
            if value & lanes & UInt32(RirbWritePointer.reset) != 0 {
                values[r] = 0
                corb.responseCount = 0
            } else {
                values[r] = old
            }
        case .corbsize:
            if values[table.corbctl] & UInt32(CorbControl.run) != 0 { values[r] = old }
        case .rirbsize:
            if values[table.rirbctl] & UInt32(RirbControl.dmaEnable) != 0 { values[r] = old }
        case .corbBase:
            if values[table.corbctl] & UInt32(CorbControl.run) != 0 { values[r] = old }
        case .rirbBase:
            if values[table.rirbctl] & UInt32(RirbControl.dmaEnable) != 0 { values[r] = old }
        default:
            break
        }
        updateInterrupts(engines: 0)   // CIS only: no engine's causes changed
    }
}
