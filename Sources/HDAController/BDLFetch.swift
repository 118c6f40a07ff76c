import HDAudio

/// RUN accepted: the BDL walk (fetch and check every entry once, bounded by LVI + 1).
extension HDAController {
    /// RUN 0 -> 1: fetch and validate the BDL (LVI + 1 entries, never more), latch the
    /// format, tag, stripe and direction, and start moving unless SSYNC holds the engine.
    ///
    /// Descriptor errors (DESE, RUN cleared, interrupt if DEIE): the BDL or a buffer is not
    /// RAM or not 128-byte aligned; LVI = 0; an entry of length 0; CBL zero, not a whole
    /// number of sample blocks, or larger than the BDL's total length. Azalia also treats a
    /// format with a reserved MULT or BITS value as a descriptor error (there is no block
    /// size to move). BDPL's bits 6:0 are read-only 0, so the BDL is always aligned.
    ///
    /// **Decision** (reference section 1): DMA reaches guest RAM only, never the
    /// controller's own registers (every buffer and the BDL must lie wholly in RAM), and
    /// every BDL walk is bounded by LVI + 1 entries. Entries are fetched once, here.
    func startRun(_ n: Int) {
        let e = engines[n]
        let lvi = Int(LastValidIndex.field.extract(sdValue(n, .lvi)))
        let bdl = GuestAddress(UInt64(sdValue(n, .bdpu)) << 32 | UInt64(sdValue(n, .bdpl)))
        guard lvi >= 1, bdl.isAligned(to: BDLEntry.alignment),
              memory.isRAM(bdl, length: UInt64(lvi + 1) * UInt64(BDLEntry.size)) else { return descriptorError(n) }
        var total: UInt64 = 0
        for i in 0...lvi {
            guard let at = bdl.adding(UInt64(i * BDLEntry.size)),
                  let entry = try? BDLEntry(bytes: memory.read(at, count: BDLEntry.size)) else { return descriptorError(n) }
            let buffer = GuestAddress(entry.address)
            guard entry.length != 0, buffer.isAligned(to: bufferAlignment),
                  let host = memory.hostPointer(buffer, length: UInt64(entry.length)) else { return descriptorError(n) }
            e.entryLength[i] = UInt64(entry.length)
            e.entryIOC[i] = entry.interruptOnCompletion
            e.entryHost[i] = host
            total += UInt64(entry.length)
        }
        let format = ConverterFormat(rawValue: UInt16(truncatingIfNeeded: sdValue(n, .fmt)))
        guard format.multField <= 3, format.bitsField <= 4 else { return descriptorError(n) }
        let bits = StreamFormat.legalSampleBits[Int(format.bitsField)]
        let blockBytes = Int(format.channels) * Int(StreamFormat.container(forBits: bits) / 8)   // SDnFMT implies the natural container
        let cbl = UInt64(sdValue(n, .cbl))
        guard cbl > 0, cbl % UInt64(blockBytes) == 0, cbl <= total else { return descriptorError(n) }

        e.entryCount = lvi + 1
        bdlFetches &+= 1
        e.cbl = cbl
        e.format = format
        e.cadence = LinkCadence(format.rateEncoding)
        e.blockBytes = blockBytes
        e.bitsPerBlock = Int(format.channels) * Int(bits)
        let ctl = StreamControl(rawValue: sdValue(n, .ctl))
        e.tag = ctl.streamTag
        e.output = e.kind == .output || (e.kind == .bidirectional && ctl.directionOutput)
        e.stripeLines = e.output ? min(ctl.stripe.lineCount, profile.sdoLines) : 1
        e.lpib = UInt64(sdValue(n, .lpib))
        if e.lpib >= cbl || e.lpib % UInt64(blockBytes) != 0 { e.lpib = 0 }
        setSD(n, .lpib, UInt32(e.lpib))
        e.locatePosition()
        e.gathered = 0
        e.scatterLeft = 0
        if faults.fifoNeverReady.contains(n) {   // injected: RUN accepted, FIFORDY never comes
            e.awaitingFifoReady = true
            return
        }
        e.running = true
        e.fifoErrorPending = faults.fifoErrors.contains(n)
        e.stats.runs += 1
        setSD(n, .sts, sdValue(n, .sts) | UInt32(StreamStatus.fifoReady.rawValue))
        refreshActive(n)
    }

    /// RUN 1 -> 0: the engine stops at the frame boundary, keeping its position.
}
