public import HDAudio

/// Streams: converters playing and recording packets, and the mismatches they refuse.
extension VirtualCodec {

    func record(_ m: FormatMismatch) {
        formatMismatchCount += 1
        if formatMismatches.count < mismatchLogLimit { formatMismatches.append(m) }
        trace?(.mismatch(m))
    }

    /// Checks a converter against a packet; returns the memory format of the packet, or the fault.
    ///
    /// The answer depends only on the converter's format, the stream's format and the bytes
    /// per block (whenever the packet is whole blocks; the configuration never changes), so the
    /// last accepted answer of each converter is kept in `checks` and a packet that repeats it
    /// costs one comparison instead of a format decode and a set lookup.
    func check(converterFormat: UInt16, format: ConverterFormat, blocks: Int, bytes: Int,
               cached checks: inout [PacketCheck], _ i: Int) -> Result<StreamFormat, StreamFault> {
        let key = blocks > 0 && bytes % blocks == 0
            ? UInt64(converterFormat) | UInt64(format.rawValue) << 16 | UInt64(bytes / blocks) << 32 : nil
        if let key, checks[i].key == key { return .success(checks[i].memory) }
        let result = ConverterPackets.check(converterFormat: converterFormat, format: format, blocks: blocks, bytes: bytes,
                                            supports: configuration.supports)
        if let key, case .success(let memory) = result { checks[i] = PacketCheck(key: key, memory: memory) }
        return result
    }

    /// Output stream data: every DAC listening to `tag` with the stream's format passes the
    /// samples (bits below the valid bits cleared) to its sink.
    public func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        guard tag != 0, blocks > 0 else { return }
        for i in dacNodes.indices {
            let node = dacNodes[i]
            guard widgets[Int(node)].streamChannel >> 4 == tag else { continue }
            let converterFormat = widgets[Int(node)].format
            switch check(converterFormat: converterFormat, format: format, blocks: blocks, bytes: data.count, cached: &dacChecks, i) {
            case .failure(let fault):
                record(FormatMismatch(node: node, isOutput: true, tag: tag, frame: frame, blocks: blocks,
                                      converterFormat: ConverterFormat(rawValue: converterFormat), streamFormat: format, fault: fault))
            case .success(let memory):
                blocksPlayed[i] += blocks
                guard let sink = sinks[i] else { continue }
                ConverterPackets.deliver(data, blocks: blocks, memory: memory, channels: 0..<Int(memory.numberOfChannels),
                                         to: sink, scratch: &scratch)
            }
        }
    }

    /// Input stream data: the first ADC sending `tag` fills `data` from its source (or with
    /// silence) in the stream's format. False when no ADC sends `tag`.
    public func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int,
                             into data: UnsafeMutableRawBufferPointer) -> Bool {
        guard tag != 0 else { return false }
        var found: Int?
        for i in adcNodes.indices where widgets[Int(adcNodes[i])].streamChannel >> 4 == tag {
            found = i
            break
        }
        guard let i = found else { return false }
        let node = adcNodes[i]
        let converterFormat = widgets[Int(node)].format
        switch check(converterFormat: converterFormat, format: format, blocks: blocks, bytes: data.count, cached: &adcChecks, i) {
        case .failure(let fault):
            record(FormatMismatch(node: node, isOutput: false, tag: tag, frame: frame, blocks: blocks,
                                  converterFormat: ConverterFormat(rawValue: converterFormat), streamFormat: format, fault: fault))
            if let base = data.baseAddress { base.initializeMemory(as: UInt8.self, repeating: 0, count: data.count) }
        case .success(let memory):
            ConverterPackets.fill(data, blocks: blocks, memory: memory, channels: 0..<Int(memory.numberOfChannels),
                                  from: sources[i], scratch: &scratch)
            blocksRecorded[i] += blocks
        }
        return true
    }
}

/// A converter's last accepted packet check: the key (converter format, stream format, bytes
/// per block) and the memory format it gave.
struct PacketCheck {
    var key: UInt64?
    var memory = StreamFormat(rate: 48000, bits: 16, channels: 2)
}
