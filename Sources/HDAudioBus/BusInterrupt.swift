import HDAudio
import Synchronization

/// The bus's ISR: which engine raised what, and where its interrupt goes.
extension HDAudioBus {

    /// The interrupt service routine (DIRQL): reads INTSTS and each flagged SDnSTS,
    /// clears them, calls BDL clients' ISRs with bits 2-4 only (for errors and IOC), and
    /// queues one signal of every registered event per IOC of a V2 buffer.
    func serviceInterrupt() -> Bool {
        let intsts = platform.read32(HDARegister.intsts)
        let streams = intsts & InterruptBits.streamMask
        guard streams != 0 || intsts & InterruptBits.controller != 0 else { return false }
        if intsts & InterruptBits.controller != 0 {
            serviceCommandInterrupt()
        } else if commands.withLock({ $0.inFlightCount > 0 }) {
            // Any interrupt is a chance to time out verbs a codec ignored.
            commands.withLock { drainResponses(&$0) }
        }
        for i in 0..<configuration.layout.count where streams & (1 << UInt32(i)) != 0 {
            let sts = HDARegister.streamDescriptor(i) + HDARegister.SD.sts
            let causes = platform.read8(sts) & StreamStatus.interruptCauses.rawValue
            platform.write8(sts, causes)
            switch interruptTargets.withLock({ $0[i] }) {
            case .bdl(let isr, let context)?:
                isr(UInt32(causes), context)
            case .notify(let events, let callbacks)?:
                if causes & StreamStatus.bufferCompletion.rawValue != 0, !events.isEmpty || !callbacks.isEmpty {
                    let qpc = callbacks.isEmpty ? 0 : performanceCounter()
                    queueDeferred {
                        for e in events { e.signal() }
                        for c in callbacks { c.callback.notify(qpc, c.context) }
                    }
                }
            case nil:
                break
            }
        }
        return true
    }

    /// Recomputes where engine `index`'s interrupts go. Called under the bus lock.
    func refreshInterruptTarget(_ index: Int, _ a: EngineAllocation?) {
        var target: InterruptTarget? = nil
        switch a?.buffer {
        case .dma(let r)? where r.notifications > 0: target = .notify(a!.events, a!.callbacks)
        case .contiguous(let r)?: if let setup = r.setup { target = .bdl(setup.isr, setup.context) }
        default: break
        }
        interruptTargets.withLock { $0[index] = target }
    }
}
