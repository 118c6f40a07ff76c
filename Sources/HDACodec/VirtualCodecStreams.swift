public import HDAudio

/// Streams: converters playing and recording packets, and the mismatches they refuse.
extension VirtualCodec {

    func record(_ m: FormatMismatch) {
        formatMismatchCount += 1
        if formatMismatches.count < mismatchLogLimit { formatMismatches.append(m) }
        trace?(.mismatch(m))
    }

    /// Checks a converter against a packet; returns the memory format of the packet, or the fault.
    func check(converter w: Widget, format: ConverterFormat, blocks: Int, bytes: Int) -> Result<StreamFormat, StreamFault> {
        ConverterPackets.check(converterFormat: w.format, format: format, blocks: blocks, bytes: bytes,
                               supports: configuration.supports)
    }

    /// Output stream data: every DAC listening to `tag` with the stream's format passes the
    /// samples (bits below the valid bits cleared) to its sink.
    public func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        guard tag != 0, blocks > 0 else { return }
        for (i, node) in dacNodes.enumerated() {
            let w = widgets[Int(node)]
            guard w.streamChannel >> 4 == tag else { continue }
            switch check(converter: w, format: format, blocks: blocks, bytes: data.count) {
            case .failure(let fault):
                record(FormatMismatch(node: node, isOutput: true, tag: tag, frame: frame, blocks: blocks,
                                      converterFormat: ConverterFormat(rawValue: w.format), streamFormat: format, fault: fault))
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
        guard let i = adcNodes.firstIndex(where: { widgets[Int($0)].streamChannel >> 4 == tag }) else { return false }
        let node = adcNodes[i]
        let w = widgets[Int(node)]
        switch check(converter: w, format: format, blocks: blocks, bytes: data.count) {
        case .failure(let fault):
            record(FormatMismatch(node: node, isOutput: false, tag: tag, frame: frame, blocks: blocks,
                                  converterFormat: ConverterFormat(rawValue: w.format), streamFormat: format, fault: fault))
            if let base = data.baseAddress { base.initializeMemory(as: UInt8.self, repeating: 0, count: data.count) }
        case .success(let memory):
            ConverterPackets.fill(data, blocks: blocks, memory: memory, channels: 0..<Int(memory.numberOfChannels),
                                  from: sources[i], scratch: &scratch)
            blocksRecorded[i] += blocks
        }
        return true
    }
}
