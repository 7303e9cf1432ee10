package dev.jamesatrn.config;

import java.util.List;

/**
 * Settings that compare by what they hold (a configuration read twice gives equal settings):
 * equality and hash from {@link #values()}, written once here.
 */
abstract class SettingValues {
    /** Every field, in a fixed order. */
    abstract List<Object> values();

    @Override
    public final boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && values().equals(((SettingValues) o).values());
    }

    @Override
    public final int hashCode() {
        return values().hashCode();
    }
}
