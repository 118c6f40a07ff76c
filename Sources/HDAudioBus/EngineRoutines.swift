import HDAudio

// AllocateRenderDmaEngine, AllocateCaptureDmaEngine, ChangeBandwidthAllocation and FreeDmaEngine,
// as the interfaces call them with the client's id.
extension HDAudioBus {

    /// AllocateRenderDmaEngine and AllocateCaptureDmaEngine, for the client `client`: the
    /// rules and statuses are on `HDAudioBusInterface.allocateRenderDmaEngine(format:stripe:)`
    /// and `allocateCaptureDmaEngine(codecAddress:format:)`, and checked in the order given there.
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
            // The direction's own engines first, then the bidirectional ones (two ranges, no array).
            let layout = configuration.layout
            guard let index = layout.indices(of: own).first(where: { s.engines[$0].isAvailable })
                    ?? layout.indices(of: .bidirectional).first(where: { s.engines[$0].isAvailable })
            else { throw .insufficientResources }
            let used = s.tagsInUse[direction, default: 0]
            guard let tag = HDAudioBus.tagRange.first(where: { used & (1 << UInt16($0)) == 0 }) else { throw .insufficientResources }
            let generation = s.engines[index].lastGeneration + 1
            var a = EngineAllocation(client: client, generation: generation, direction: direction, tag: tag,
                                     format: format, converterFormat: converter, stripeLines: max(lines, 1),
                                     charge: c)
            guard streamReset(index) else {
                makeSafe(index)
                throw .deviceNotReady
            }
            a.inResetSinceAllocation = true
            s.engines[index].allocation = a
            s.engines[index].lastGeneration = generation
            s.tagsInUse[direction, default: 0] |= 1 << UInt16(tag)
            apply(c, sign: 1, &s)
            programControl(index, a)
            return DmaEngineAllocation(handle: DmaEngineHandle(client: client, generation: generation, slot: index),
                                       converterFormat: converter)
        }
    }

    /// ChangeBandwidthAllocation, for the client `client` (rules and statuses:
    /// `HDAudioBusInterface.changeBandwidthAllocation(_:format:)`).
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

    /// FreeDmaEngine, for the client `client` (rules and statuses:
    /// `HDAudioBusInterface.freeDmaEngine(_:)`).
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
