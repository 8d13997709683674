package dev.edgegen.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.edgegen.data.Sample;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.train.AdamW;
import dev.edgegen.train.CaptionCache;
import dev.edgegen.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ContrastiveModelTest {
    /** Stand-in for MiniLM sentence embeddings: a fixed random unit vector per caption. */
    static NDArray fakeSentences(List<String> captions, NDManager m) {
        float[] v = new float[captions.size() * 384];
        for (int i = 0; i < captions.size(); i++) {
            Random r = new Random(captions.get(i).hashCode());
            for (int j = 0; j < 384; j++) v[i * 384 + j] = (float) r.nextGaussian() / 20;
        }
        return m.create(v, new Shape(captions.size(), 384));
    }

    @Test
    void infoNceFallsOnAFixedBatchAndScoresAreCosines() {
        try (NDManager m = NDManager.newBaseManager()) {
            ContrastiveModel model = new ContrastiveModel();
            model.init(m, 1);
            List<Sample> samples = ContrastiveTraining.scenes(SyntheticScenes.Split.TRAIN, 1, 16);
            CaptionCache cache = new CaptionCache(ContrastiveModelTest::fakeSentences, 100);
            AdamW adam = new AdamW(new AdamW.Hyper(0.9, 0.98, 1e-6, 0), m);
            for (Parameter p : model.parameters().values()) p.get().setRequiresGradient(true);
            double first = 0, last = 0;
            for (int step = 0; step < 12; step++) {
                try (NDManager s = m.newSubManager()) {
                    NDArray loss;
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        loss = model.loss(ContrastiveTraining.images(samples, s),
                                cache.encode(samples.stream().map(Sample::caption).toList(), s));
                        gc.backward(loss);
                    }
                    if (step == 0) first = loss.getFloat();
                    last = loss.getFloat();
                    Map<String, NDArray> values = new LinkedHashMap<>(), grads = new LinkedHashMap<>();
                    model.parameters().forEach((k, p) -> {
                        NDArray g = p.get().getGradient();
                        g.attach(s);
                        values.put(k, p.get());
                        grads.put(k, g);
                    });
                    adam.step(values, grads, 3e-3);
                    values.values().forEach(a -> ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) a));
                }
            }
            for (Parameter p : model.parameters().values()) p.get().setRequiresGradient(false);
            assertTrue(first > Math.log(16) - 0.5, "about chance level at the start: " + first);
            assertTrue(last < 0.5 * first, first + " → " + last);
            NDArray e = m.create(new float[] {0.6f, 0.8f, 1, 0}, new Shape(2, 2));
            assertEquals(1.0, ContrastiveModel.clipScore(e, e), 1e-6);
            ContrastiveTraining.SetReport r = ContrastiveTraining.evaluate("train", model, samples, cache, m);
            assertEquals(16, r.n());
            assertTrue(r.clipScore() > r.clipScoreShuffled(), r.toString());
            assertTrue(r.top1() > 0.5, r.toString());
            double fid = ContrastiveTraining.fid(model, samples, ContrastiveTraining.scenes(SyntheticScenes.Split.VAL, 1, 16), m);
            assertTrue(fid > 0 && Double.isFinite(fid), "fid " + fid);
        }
    }
}
