import DoctorModel
import Foundation

/// Parses `ipsec trafficstatus` (= `ipsec whack --trafficstatus`): one line per established Child SA.
///
///     006 #2: "westnet-eastnet", type=ESP, add_time=1763895735, inBytes=420, outBytes=420, maxBytes=2^63B, id='@east'
///     #2: "east"[1] 192.1.2.254, type=ESP, add_time=1234567890, inBytes=168, outBytes=168, maxBytes=2^63B, id='@road'
///
/// An empty output means no Child SA is established.
public enum TrafficStatusParser {
    public static func parse(_ document: RawDocument) -> ([TrafficStatusEntry], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        var out: [TrafficStatusEntry] = []
        for (n, raw) in lines {
            let msg = LogPrefix.strip(Substring(raw))
            guard msg.hasPrefix("#"), msg.contains("type=") else { continue }
            let (conn, serial) = PlutoLogClassifier.connectionAndSerial(msg)
            func field(_ k: String) -> String? {
                guard let r = msg.range(of: k + "=") else { return nil }
                return String(msg[r.upperBound...].prefix(while: { $0 != "," }))
            }
            out.append(TrafficStatusEntry(
                serial: serial ?? 0, connection: conn ?? "?", inBytes: field("inBytes").flatMap { UInt64($0) } ?? 0,
                outBytes: field("outBytes").flatMap { UInt64($0) } ?? 0,
                peerID: field("id")?.trimmingCharacters(in: CharacterSet(charactersIn: "'")),
                source: SourceLine(file: document.name, line: n, text: raw)))
        }
        return (out, [])
    }
}

/// Parses `ipsec status` / `ipsec whack --status`: the loaded connections and the states.
///
///     000 "westnet-eastnet": 10.1.0.0/24===192.0.2.1[@west]...192.0.2.2[@east]===10.2.0.0/24; erouted; eroute owner: #2
///     000 #2: "westnet-eastnet":500 STATE_V2_ESTABLISHED_CHILD_SA (established Child SA); REKEY in 27970s; newest; eroute owner; IKE SA #1; idle;
///     #3: "private#192.1.2.23/32"[2] ...192.1.2.23:500 established Child SA; REKEY in XXs; ...            (5.4)
public enum StatusParser {
    public static func parse(_ document: RawDocument) -> (states: [StatusState], connections: [String], diagnostics: [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [], [unreadable]) }
        var states: [StatusState] = []
        var conns: [String] = []
        for (n, raw) in lines {
            let msg = LogPrefix.strip(Substring(raw))
            if msg.hasPrefix("#") {
                guard !msg.contains("Traffic:") else { continue }
                let (conn, serial) = PlutoLogClassifier.connectionAndSerial(msg)
                guard let conn, let serial else { continue }
                // The state is the first STATE_* token, or the 5.x story after the address.
                let words = msg.split(separator: " ")
                let stateWord = words.first { $0.hasPrefix("STATE_") || $0.hasPrefix("ESTABLISHED_") || $0.hasSuffix("_I") || $0.hasSuffix("_R") }
                var state = stateWord.map(String.init) ?? ""
                if state.isEmpty, let semi = msg.firstIndex(of: ";") {
                    state = String(msg[..<semi].split(separator: " ").suffix(3).joined(separator: " "))
                }
                states.append(StatusState(serial: serial, connection: conn, state: state, source: SourceLine(file: document.name, line: n, text: raw)))
            } else if msg.hasPrefix("\"") {
                let (conn, _) = PlutoLogClassifier.connectionAndSerial(msg)
                if let conn, msg.contains("==="), msg.contains("..."), !conns.contains(conn) { conns.append(conn) }
            }
        }
        return (states, conns, [])
    }
}
