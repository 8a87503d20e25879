public enum StewardIngestPlaceholder {}
