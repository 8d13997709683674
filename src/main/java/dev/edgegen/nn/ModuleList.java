package dev.edgegen.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Indexed children, named "0", "1", ... as in torch's nn.ModuleList (keys {@code resnets.1.conv1.weight}). */
public final class ModuleList<M extends Module> extends Module {
    private final List<M> items = new ArrayList<>();

    public M add(M m) {
        register(Integer.toString(items.size()), m);
        items.add(m);
        return m;
    }

    public M get(int i) { return items.get(i); }

    public int size() { return items.size(); }

    public List<M> items() { return Collections.unmodifiableList(items); }
}
