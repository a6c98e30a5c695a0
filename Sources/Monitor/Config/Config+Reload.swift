import Alarms

extension Config {
    /// The keys whose change in `fresh` a reload does not apply: everything outside the alarm rules and the
    /// technical debounce (the model, inputs, windows, workers and alert output are set up once, and the flat
    /// line and saturation limits are checked by each stream's pipeline, built when it opens).
    func keysNeedingRestart(comparedWith fresh: Config) -> [String] {
        var keys: [String] = []
        if model != fresh.model { keys.append("model") }
        if input != fresh.input { keys.append("input") }
        if windows != fresh.windows { keys.append("windows") }
        if inference != fresh.inference { keys.append("inference") }
        if alerts != fresh.alerts { keys.append("alerts") }
        if technical.flatLineMillivolts != fresh.technical.flatLineMillivolts { keys.append("technical.flat_line_mv") }
        if technical.saturationMillivolts != fresh.technical.saturationMillivolts {
            keys.append("technical.saturation_mv")
        }
        return keys
    }
}
