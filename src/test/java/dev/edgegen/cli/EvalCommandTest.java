package dev.edgegen.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class EvalCommandTest {

    @Test
    void undefinedRatesAreWrittenAsJsonNullNotTheStringNaN() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.put("fid", Double.NaN);
        o.put("clip_score", 0.31);
        o.putObject("following").put("relation", Double.NaN).put("colour", 0.5);
        String out = json.writeValueAsString(EvalCommand.nanToNull(o));
        assertEquals("{\"fid\":null,\"clip_score\":0.31,\"following\":{\"relation\":null,\"colour\":0.5}}", out);
        assertTrue(json.readTree(out).get("following").get("relation").isNull());
    }
}
