import HDAudio

// AllocateRenderDmaEngine, AllocateCaptureDmaEngine, ChangeBandwidthAllocation and FreeDmaEngine,
// as the interfaces call them with the client's id.
extension HDAudioBus {

    /// AllocateRenderDmaEngine / AllocateCaptureDmaEngine. PASSIVE_LEVEL.
    ///
    /// Order of checks: IRQL (UNSUCCESSFUL); the format, and for capture the codec address
    /// (an SDI line with a codec present) (INVALID_PARAMETER); the FIFO (BUFFER_TOO_SMALL);
    /// a free engine, a free tag of the direction, the line budget (INSUFFICIENT_RESOURCES).
    /// Render takes the lowest free output engine, then the lowest free bidirectional one
    /// (DIR = output); capture takes an input engine, then a bidirectional one (DIR = input).
    /// Stripe on a controller with 2 or 4 SDO lines stripes over all of them; with one
    /// line the engine is unstriped. Tags are per direction, 1 to 15 (the Decision). The
    /// engine is left in reset (SRST handshake done); a handshake that does not complete
    /// releases everything and is STATUS_DEVICE_NOT_READY.
    func allocateDmaEngine(client: UInt32, direction: StreamDirection, format: StreamFormat,
                        stripe: Bool, codecAddress: Int) throws(NTStatus) -> DmaEngineAllocation {
        try require(.passive)
        let converter = try ConverterFormat(format)
        if direction == .capture {
            guard (0..<configuration.sdiLines).contains(codecAddress) else { throw .invalidParameter }
        }
        // Stripe asks for all SDO lines; a one-line controller allocates unstriped.
        let lines = direction == .render ? (stripe ? configuration.gcap.sdoLines : 1) : 0
        return try locked { (s: inout BusState) throws(NTStatus) -> DmaEngineAllocation in
            guard s.openClients[client] != nil else { throw .invalidDeviceRequest }
            if direction == .capture, s.codecMask & (1 << UInt16(codecAddress)) == 0 { throw .invalidParameter }
            let c = try charge(for: format, direction: direction, stripeLines: lines, sdiLine: codecAddress, in: s)
            let own: EngineKind = direction == .render ? .output : .input
            let candidates = Array(configuration.layout.indices(of: own)) + Array(configuration.layout.indices(of: .bidirectional))
            guard let index = candidates.first(where: { s.engines[$0].allocation == nil }) else { throw .insufficientResources }
            let used = s.tagsInUse[direction, default: 0]
            guard let tag = HDAudioBus.tagRange.first(where: { used & (1 << UInt16($0)) == 0 }) else { throw .insufficientResources }
            let generation = s.nextGeneration
            s.nextGeneration = s.nextGeneration >= 0xFF_FFFF ? 1 : s.nextGeneration + 1
            let a = EngineAllocation(client: client, generation: generation, direction: direction, tag: tag,
                                     format: format, converterFormat: converter, stripeLines: max(lines, 1),
                                     charge: c)
            guard streamReset(index) else {
                makeSafe(index)
                throw .deviceNotReady
            }
            s.engines[index].allocation = a
            s.tagsInUse[direction, default: 0] |= 1 << UInt16(tag)
            apply(c, sign: 1, &s)
            programControl(index, a)
            return DmaEngineAllocation(handle: DmaEngineHandle(client: client, generation: generation, slot: index),
                                       converterFormat: converter)
        }
    }

    /// ChangeBandwidthAllocation. PASSIVE_LEVEL. INVALID_DEVICE_REQUEST unless the engine
    /// is in reset with no buffer; re-checks FIFO and budgets for the new format with the
    /// engine's own reservation released; on any failure the old format and reservation
    /// stay exactly as they were.
    func changeBandwidthAllocation(client: UInt32, handle: DmaEngineHandle, format: StreamFormat) throws(NTStatus) -> ConverterFormat {
        try require(.passive)
        return try locked { (s: inout BusState) throws(NTStatus) -> ConverterFormat in
            let i = try s.index(of: handle, client: client)
            let converter = try ConverterFormat(format)
            var a = s.engines[i].allocation!
            guard a.state == .reset, a.buffer == nil else { throw .invalidDeviceRequest }
            var trial = s
            apply(a.charge, sign: -1, &trial)
            let c = try charge(for: format, direction: a.direction, stripeLines: a.direction == .render ? a.stripeLines : 0,
                               sdiLine: a.charge.sdiLine, in: trial)
            apply(a.charge, sign: -1, &s)
            apply(c, sign: 1, &s)
            a.charge = c
            a.format = format
            a.converterFormat = converter
            s.engines[i].allocation = a
            return converter
        }
    }

    /// FreeDmaEngine. Up to DISPATCH_LEVEL. INVALID_DEVICE_REQUEST if the engine is not in
    /// reset or still holds a buffer of any kind. Returns its tag and bandwidth.
    func freeDmaEngine(client: UInt32, handle: DmaEngineHandle) throws(NTStatus) {
        try require(.dispatch)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            let a = s.engines[i].allocation!
            guard a.state == .reset, a.buffer == nil else { throw .invalidDeviceRequest }
            release(i, &s)
        }
    }
}
