@testable import DNS
import Registry

/// A catalog of instances given directly, standing in for a node's registry.
struct FakeCatalog: ServiceCatalog {
    var instances: [ServiceInstance]
    var dnsSerial: UInt32 = 42

    func dnsInstances(namespace: String, service: String) -> [ServiceInstance] {
        instances.filter { $0.namespace == namespace && $0.service == service }
    }

    func dnsHasNamespace(_ namespace: String) -> Bool {
        instances.contains { $0.namespace == namespace }
    }
}

func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}

func name(_ text: String) -> DNSName { try! DNSName(text) }

/// A query message for `text` and `type`, with EDNS0 when `bufferSize` is given.
func query(_ text: String, _ type: DNSRecordType, id: UInt16 = 0x1234, bufferSize: UInt16? = nil) -> DNSMessage {
    DNSMessage(
        header: DNSHeader(id: id, recursionDesired: true), questions: [DNSQuestion(name: name(text), type: type)],
        additionals: bufferSize.map { [EDNS(udpPayloadSize: $0).record] } ?? [])
}

func instance(_ id: String, service: String = "web", namespace: String = "default", endpoints: [String],
              metadata: [String: String] = [:], weight: UInt32 = 100, status: InstanceStatus = .up) -> ServiceInstance {
    ServiceInstance(namespace: namespace, service: service, id: id, endpoints: endpoints, metadata: metadata,
                    weight: weight, status: status)
}

extension RegistryState {
    /// Registers `instance` as the log would, at the next index.
    mutating func testRegister(_ instance: ServiceInstance) {
        _ = apply(.registerInstance(instance), at: UInt64(revision.rawValue) + 1)
    }
}
