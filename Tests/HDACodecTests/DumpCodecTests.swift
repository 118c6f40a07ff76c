import Foundation
import Testing
import HDAudio
@testable import HDACodec
import TestSupport

/// The ThinkPad T530's ALC269VC, from reset.
func t530() throws -> DumpCodec { DumpCodec(dump: try shipped("alc269vc-lenovo-thinkpad-t530.txt#0"), address: 0) }

@Suite("Dump codec: verbs")
struct DumpCodecVerbTests {
    @Test("Amp gain/mute: each side and index set and read back; the gain is clamped to the amp's steps")
    func ampGainMute() throws {
        let c = try t530()
        // Node 0x02: Amp-Out caps nsteps=0x57, no mute. Set left only to 0x30.
        _ = askLong(c, 0x02, CodecVerb.setAmpGainMute, 0xA030)
        #expect(askLong(c, 0x02, CodecVerb.getAmpGainMute, 0xA000) == 0x30)
        #expect(askLong(c, 0x02, CodecVerb.getAmpGainMute, 0x8000) == 0x57, "right untouched, at its reset 0 dB step")
        _ = askLong(c, 0x02, CodecVerb.setAmpGainMute, 0xB0FF)   // mute asked, gain 0x7f: no mute bit, gain clamped
        #expect(askLong(c, 0x02, CodecVerb.getAmpGainMute, 0xA000) == 0x57)
        // Mixer 0x0b: 5 input amps with mute; index 3, both sides.
        #expect(askLong(c, 0x0B, CodecVerb.getAmpGainMute, 0x2003) == 0x80 | 0x17, "reset: muted at the offset")
        _ = askLong(c, 0x0B, CodecVerb.setAmpGainMute, 0x7305)
        #expect(askLong(c, 0x0B, CodecVerb.getAmpGainMute, 0x2003) == 0x05 && askLong(c, 0x0B, CodecVerb.getAmpGainMute, 0x0003) == 0x05)
        #expect(askLong(c, 0x0B, CodecVerb.getAmpGainMute, 0x2002) == 0x97, "other indices untouched")
    }

    @Test("Pin control, connection select, EAPD, power, unsolicited enable: set and read back; a selection past the list is ignored")
    func controls() throws {
        let c = try t530()
        _ = ask(c, 0x15, CodecVerb.setPinWidgetControl, 0xC0)
        #expect(ask(c, 0x15, CodecVerb.getPinWidgetControl) == 0xC0)
        _ = ask(c, 0x15, CodecVerb.setConnectionSelect, 1)
        #expect(ask(c, 0x15, CodecVerb.getConnectionSelect) == 1)
        _ = ask(c, 0x15, CodecVerb.setConnectionSelect, 2)
        #expect(ask(c, 0x15, CodecVerb.getConnectionSelect) == 1)
        _ = ask(c, 0x14, 0x70C, 0x02)
        #expect(ask(c, 0x14, 0xF0C) == 0x02)
        _ = ask(c, 0x14, CodecVerb.setPowerState, 3)
        #expect(ask(c, 0x14, CodecVerb.getPowerState) == 0x33)
        _ = ask(c, 0x15, CodecVerb.setUnsolicitedEnable, 0x81)
        #expect(ask(c, 0x15, CodecVerb.getUnsolicitedEnable) == 0x81)
    }

    @Test("Converter format and stream/channel, SDI select, digital converter bytes")
    func converters() throws {
        let c = try t530()
        _ = askLong(c, 0x03, CodecVerb.setConverterFormat, 0x4011)
        #expect(askLong(c, 0x03, CodecVerb.getConverterFormat, 0) == 0x4011)
        _ = ask(c, 0x03, CodecVerb.setConverterStreamChannel, 0x52)
        #expect(ask(c, 0x03, CodecVerb.getConverterStreamChannel) == 0x52)
        _ = ask(c, 0x09, 0x704, 0x03)
        #expect(ask(c, 0x09, 0xF04) == 0x03)
        _ = ask(c, 0x06, 0x70D, 0x01)
        _ = ask(c, 0x06, 0x70E, 0x02)
        _ = ask(c, 0x06, 0x73E, 0x05)
        #expect(ask(c, 0x06, 0xF0D) == 0x05_0201)
    }

    @Test("GPIO data, mask, direction, wake, unsolicited and sticky masks on the function group")
    func gpio() throws {
        let c = try t530()
        for (set, value) in [(UInt16(0x715), UInt8(0x01)), (0x716, 0x03), (0x717, 0x02), (0x718, 0x01), (0x719, 0x02), (0x71A, 0x03)] {
            _ = ask(c, 0x01, set, value)
            #expect(ask(c, 0x01, set | 0x800) == UInt32(value), "GPIO verb \(set)")
        }
    }

    @Test("Config default set byte by byte (0x71C to 0x71F) and subsystem id (0x720 to 0x723); both survive a function reset")
    func configDefaultBytes() throws {
        let c = try t530()
        for (i, b) in [UInt8(0x10), 0x20, 0x21, 0x03].enumerated() { _ = ask(c, 0x18, 0x71C + UInt16(i), b) }
        #expect(ask(c, 0x18, CodecVerb.getConfigDefault) == 0x0321_2010)
        for (i, b) in [UInt8(0x44), 0x33, 0x22, 0x11].enumerated() { _ = ask(c, 0x01, 0x720 + UInt16(i), b) }
        #expect(ask(c, 0x01, CodecVerb.getSubsystemID) == 0x1122_3344)
        _ = ask(c, 0x18, CodecVerb.setPinWidgetControl, 0x24)
        _ = ask(c, 0x01, CodecVerb.functionReset)
        #expect(ask(c, 0x18, CodecVerb.getPinWidgetControl) == 0, "controls back to reset")
        #expect(ask(c, 0x18, CodecVerb.getConfigDefault) == 0x0321_2010)
        #expect(ask(c, 0x01, CodecVerb.getSubsystemID) == 0x1122_3344)
    }

    @Test("Realtek's coefficients through node 0x20: index and value read back what was written, 0 before")
    func coefficients() throws {
        let c = try t530()
        _ = askLong(c, 0x20, 0x5, 0x0007)
        #expect(askLong(c, 0x20, 0xD, 0) == 0x0007)
        #expect(askLong(c, 0x20, 0xC, 0) == 0)
        _ = askLong(c, 0x20, 0x4, 0xBEEF)
        #expect(askLong(c, 0x20, 0xC, 0) == 0xBEEF)
        _ = askLong(c, 0x20, 0x5, 0x0008)
        #expect(askLong(c, 0x20, 0xC, 0) == 0)
        _ = askLong(c, 0x20, 0x5, 0x0007)
        #expect(askLong(c, 0x20, 0xC, 0) == 0xBEEF)
    }

    @Test("Vendor verbs are stored per node: a get answers the matching set, 0 before")
    func vendorVerbs() throws {
        let c = try t530()
        #expect(ask(c, 0x20, 0xF80) == 0)
        _ = ask(c, 0x20, 0x780, 0x5A)
        #expect(ask(c, 0x20, 0xF80) == 0x5A)
        #expect(ask(c, 0x1A, 0xF80) == 0, "another node keeps its own")
    }

    @Test("Another codec address gets no answer; an absent node answers 0")
    func addressing() throws {
        let c = try t530()
        #expect(c.linkCommand(CodecVerb.getParameter(codec: 1, node: 0, .vendorID).rawValue) == nil)
        #expect(parameter(c, 0x7E, .audioWidgetCapabilities) == 0)
    }

    @Test("A connection list with an entry above 0x7f is read in the long form, two entries per verb")
    func longForm() throws {
        var d = try shipped("alc269vc-lenovo-thinkpad-t530.txt#0")
        let i = try #require(d.nodes.firstIndex { $0.id == 0x22 })
        d.nodes[i].connections = [0x18, 0x19, 0x85, 0x1B]
        let c = DumpCodec(dump: d)
        #expect(parameter(c, 0x22, .connectionListLength) == 0x84)
        #expect(ask(c, 0x22, CodecVerb.getConnectionListEntry, 0) == 0x0019_0018)
        #expect(ask(c, 0x22, CodecVerb.getConnectionListEntry, 2) == 0x001B_0085)
        #expect(connectionList(c, 0x22) == [0x18, 0x19, 0x85, 0x1B])
    }

    @Test("Jack presence is read by GET_PIN_SENSE; a change sends an unsolicited response only when enabled, with the pin's tag")
    func jackDetection() throws {
        let c = try t530()
        #expect(ask(c, 0x15, CodecVerb.getPinSense) == 0)
        #expect(!c.setJackPresence(pin: 0x15, present: true), "disabled: no response")
        #expect(ask(c, 0x15, CodecVerb.getPinSense) == 0x8000_0000)
        #expect(c.linkPollUnsolicited() == nil && c.unsolicitedDropped == 1)
        _ = ask(c, 0x15, CodecVerb.setUnsolicitedEnable, 0x80 | 0x01)
        #expect(!c.setJackPresence(pin: 0x15, present: true), "no change, no response")
        #expect(c.setJackPresence(pin: 0x15, present: false))
        #expect(c.linkPollUnsolicited() == 0x01 << 26)
        #expect(c.linkPollUnsolicited() == nil)
        #expect(!c.setJackPresence(pin: 0x02, present: true), "not a pin")
    }
}

@Suite("Dump codec: audio through its paths")
struct DumpCodecAudioTests {
    static let format = StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 4)
    static let converter = ConverterFormat(rawValue: 0x0013)   // 48 kHz, 16-bit, 4 channels

    /// Opens DAC 0x03 -> mixer 0x0d -> pin 0x14 (speaker) by verbs.
    func openSpeaker(_ c: DumpCodec, channel: UInt8) {
        _ = askLong(c, 0x03, CodecVerb.setConverterFormat, Self.converter.rawValue)
        _ = ask(c, 0x03, CodecVerb.setConverterStreamChannel, 0x10 | channel)
        _ = askLong(c, 0x0D, CodecVerb.setAmpGainMute, 0x7000)        // mixer input 0 (DAC 0x03) unmuted
        _ = ask(c, 0x14, CodecVerb.setConnectionSelect, 1)            // pin 0x14 takes 0x0d
        _ = askLong(c, 0x14, CodecVerb.setAmpGainMute, 0xB000)        // pin out amp unmuted
        _ = ask(c, 0x14, CodecVerb.setPinWidgetControl, 0x40)
    }

    func packet(blocks: Int) -> [UInt8] {
        (0..<blocks * 4).flatMap { i -> [UInt8] in let v = UInt16(i * 257 & 0xFFFF); return [UInt8(v & 0xFF), UInt8(v >> 8)] }
    }

    @Test("A DAC plays its channels (offset from SET_CONVERTER_STREAM_CHANNEL) of its stream into the pin it reaches")
    func channelOffset() throws {
        let c = try t530()
        let sink = SampleBuffer()
        #expect(c.setSink(sink, pin: 0x14))
        openSpeaker(c, channel: 2)
        #expect(c.dacFeeding(pin: 0x14) == 0x03)
        let data = packet(blocks: 8)
        data.withUnsafeBytes { c.linkReceive(tag: 1, format: Self.converter, frame: 0, blocks: 8, data: $0) }
        let out = try #require(sink.wavFile())
        #expect(out.format.channels == 2)
        let expected = (0..<8).flatMap { b in Array(data[(b * 8 + 4)..<(b * 8 + 8)]) }
        #expect(out.data == expected)
        #expect(c.blocksPlayed[0x03] == 8)
    }

    @Test("Nothing reaches the pin when a step of the path is closed: pin off, mixer input muted, other connection selected")
    func closedPaths() throws {
        for close in 0..<3 {
            let c = try t530()
            let sink = SampleBuffer()
            c.setSink(sink, pin: 0x14)
            openSpeaker(c, channel: 0)
            switch close {
            case 0: _ = ask(c, 0x14, CodecVerb.setPinWidgetControl, 0)
            case 1: _ = askLong(c, 0x0D, CodecVerb.setAmpGainMute, 0x7080)
            default: _ = ask(c, 0x14, CodecVerb.setConnectionSelect, 0)
            }
            #expect(c.dacFeeding(pin: 0x14) == nil, "case \(close)")
            packet(blocks: 4).withUnsafeBytes { c.linkReceive(tag: 1, format: Self.converter, frame: 0, blocks: 4, data: $0) }
            #expect(sink.wavFile() == nil || sink.wavFile()?.data.isEmpty == true, "case \(close)")
            #expect(c.blocksPlayed[0x03] == 4, "the DAC still played")
        }
    }

    @Test("A format the converter does not list (8-bit here) is refused and recorded")
    func unsupportedFormat() throws {
        let c = try t530()
        openSpeaker(c, channel: 0)
        let eightBit = ConverterFormat(rawValue: 0x0003)
        _ = askLong(c, 0x03, CodecVerb.setConverterFormat, eightBit.rawValue)
        [UInt8](repeating: 0, count: 16).withUnsafeBytes { c.linkReceive(tag: 1, format: eightBit, frame: 0, blocks: 4, data: $0) }
        #expect(c.formatMismatchCount == 1 && c.formatMismatches.first?.fault == .unsupportedFormat)
    }

    @Test("An ADC records the source of the input pin it reaches, in its channels; silence without a path")
    func recording() throws {
        let c = try t530()
        let source = SampleBuffer()
        let stereo = StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 2)
        let samples: [UInt8] = (0..<32).map { UInt8($0 + 1) }
        samples.withUnsafeBytes { source.consume($0, blocks: 8, format: stereo) }
        #expect(c.setSource(source, pin: 0x18))
        // ADC 0x08 <- mixer 0x23 <- pin 0x18 (index 0).
        _ = askLong(c, 0x08, CodecVerb.setConverterFormat, 0x0011)
        _ = ask(c, 0x08, CodecVerb.setConverterStreamChannel, 0x20)
        _ = askLong(c, 0x08, CodecVerb.setAmpGainMute, 0x7000)
        var out = [UInt8](repeating: 0xEE, count: 32)
        let silent = out.withUnsafeMutableBytes { c.linkTransmit(tag: 2, format: ConverterFormat(rawValue: 0x0011), frame: 0, blocks: 8, into: $0) }
        #expect(silent && out == [UInt8](repeating: 0, count: 32), "the mixer input is muted and the pin is off: silence")
        _ = askLong(c, 0x23, CodecVerb.setAmpGainMute, 0x7000)
        _ = ask(c, 0x18, CodecVerb.setPinWidgetControl, 0x20)
        #expect(c.pinFeeding(adc: 0x08) == 0x18)
        _ = out.withUnsafeMutableBytes { c.linkTransmit(tag: 2, format: ConverterFormat(rawValue: 0x0011), frame: 0, blocks: 8, into: $0) }
        #expect(out == samples)
        #expect(out.withUnsafeMutableBytes { c.linkTransmit(tag: 3, format: ConverterFormat(rawValue: 0x0011), frame: 0, blocks: 8, into: $0) } == false)
    }

    @Test("The graph's default paths: DAC to the first line-out or speaker pin, a line-in or mic pin to an ADC")
    func defaultPaths() throws {
        let g = CodecGraph(dump: try shipped("alc269vc-lenovo-thinkpad-t530.txt#0"))
        #expect(g.defaultOutput == CodecGraph.Path(nodes: [0x14, 0x0C, 0x02], converter: 0x02, pin: 0x14))
        #expect(g.defaultInput == CodecGraph.Path(nodes: [0x09, 0x22, 0x12], converter: 0x09, pin: 0x12))
        #expect(g.defaultOutput?.description == "0x02 -> 0x0c -> 0x14")
        let hdmi = CodecGraph(dump: try shipped("alc282-asus-tx300ca.txt#1"))
        #expect(hdmi.defaultOutput != nil && hdmi.defaultInput == nil)
    }
}
