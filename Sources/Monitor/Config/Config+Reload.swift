import Alarms

extension Config {
    /// The keys, by their full names, whose change in `fresh` a reload does not apply: everything outside the alarm rules and the
    /// technical debounce (the model, inputs, windows, workers and alert output are set up once, and the flat
    /// line and saturation limits are checked by each stream's pipeline, built when it opens).
    func keysNeedingRestart(comparedWith fresh: Config) -> [String] {
        // The alarm rules, heart-rate alarms and the technical debounce are reloaded; the stream pipeline's
        // limits are not.
        let reloaded = { (name: String) in
            name.hasPrefix("alarms.") || name.hasPrefix("heart_rate.")
                || (name.hasPrefix("technical.") && name != "technical.flat_line_mv"
                    && name != "technical.saturation_mv")
        }
        return Config.keys.filter { !reloaded($0.name) && $0.value(in: self) != $0.value(in: fresh) }.map(\.name)
    }
}
