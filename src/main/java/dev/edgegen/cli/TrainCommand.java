package dev.edgegen.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.tensor.Autocast;
import dev.edgegen.text.MiniLmTextEncoder;
import dev.edgegen.train.AttentionLoss;
import dev.edgegen.train.AutoencoderTask;
import dev.edgegen.train.CaptionCache;
import dev.edgegen.train.DiffusionTask;
import dev.edgegen.train.LatentPool;
import dev.edgegen.train.TrainConfig;
import dev.edgegen.train.TrainProgress;
import dev.edgegen.train.Trainer;
import dev.edgegen.train.TrainedModels;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.unet.UNetConfig;
import dev.edgegen.vae.AutoencoderKL;
import dev.edgegen.vae.Posterior;
import dev.edgegen.vae.VAEConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the autoencoder or the UNet of a small text-to-image model (see docs/training.md).")
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "STAGE", description = "autoencoder or unet (must match the config's \"stage\").")
    String stage;

    @Option(names = "--config", required = true, description = "Training config (JSON).")
    Path config;

    @Option(names = "--resume", description = "Continue the run from its checkpoint.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        if (!stage.equals("autoencoder") && !stage.equals("unet")) {
            throw new IllegalArgumentException("stage must be autoencoder or unet, got \"" + stage + "\"");
        }
        TrainConfig cfg = TrainConfig.read(config);
        if (!cfg.stage().equals(stage)) {
            throw new IllegalArgumentException(config + " is a \"" + cfg.stage() + "\"-stage config; run `edgegen train "
                    + cfg.stage() + " --config " + config + "`");
        }
        Trainer.Result r;
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = cfg.data().loader(cfg.seed(), cfg.data().start(), System.err);
             TrainProgress bar = new TrainProgress(System.err, "train " + stage)) {
            r = stage.equals("autoencoder") ? autoencoder(cfg, loader, m, bar) : unet(cfg, loader, m, bar);
        }
        String loss = Double.isNaN(r.lastLoss()) ? "no step run"
                : String.format(Locale.ROOT, "loss %.5f", r.lastLoss());
        System.err.printf(Locale.ROOT, "edgegen: %s at step %d, %s; checkpoint %s%n",
                r.stopped() ? "stopped" : "finished", r.stepsDone(), loss, r.checkpoint());
        return 0;
    }

    private Trainer.Result autoencoder(TrainConfig cfg, DataLoader loader, NDManager m, TrainProgress bar) throws Exception {
        AutoencoderKL vae = new AutoencoderKL(VAEConfig.fromJson(cfg.model(), config + " model"));
        vae.initializeFanIn(m, cfg.seed());
        if (cfg.init() != null && !resume) TrainedModels.initFrom(vae, cfg.init(), m);
        System.err.printf(Locale.ROOT, "edgegen: autoencoder, %.2f M parameters%n", vae.parameterCount() / 1e6);
        Trainer.Task task = new AutoencoderTask(new AutoencoderTask.Autoencoder() {
            @Override public NDArray[] encode(NDArray images) {
                Posterior p = vae.encode(images);
                return new NDArray[] {p.mean(), p.logvar()};
            }

            @Override public NDArray decode(NDArray latents) { return vae.decode(latents); }
        }, loader, cfg.loss().klWeight(), cfg.loss().mseWeight(), cfg.loss().posteriorNoise());
        return new Trainer(vae, cfg.trainer(), cfg.raw(), cfg.output(), m, cfg::trainable).run(task, resume, bar, true);
    }

    /** The negative captions the binding term will ask for, one per pool sample that has one. */
    private static List<String> negativeCaptions(LatentPool pool, List<SyntheticScenes.Rebinding> negatives) {
        List<String> out = new ArrayList<>(), captions = pool.captions();
        List<Scene> scenes = pool.scenes();
        for (int i = 0; i < pool.size(); i++) DiffusionTask.negativeCaption(captions.get(i), scenes.get(i), negatives).ifPresent(out::add);
        return out;
    }

    /**
     * What a UNet stage's latent pool is made from: the "data" section, seed and precision of the config and the
     * autoencoder checkpoint's size and modification time (a retrained autoencoder makes another pool).
     */
    static String poolKey(TrainConfig cfg) throws IOException {
        Path ae = Trainer.checkpointOf(cfg.autoencoder());
        String what = "pool v1|data=" + cfg.raw().path("data") + "|seed=" + cfg.seed() + "|precision=" + cfg.trainer().precision()
                + "|autoencoder=" + Files.size(ae) + "@" + Files.getLastModifiedTime(ae).toMillis();
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(what.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private Trainer.Result unet(TrainConfig cfg, DataLoader loader, NDManager m, TrainProgress bar) throws Exception {
        TrainedModels.Autoencoder ae = TrainedModels.loadAutoencoder(cfg.autoencoder(), cfg.data(), cfg.init(), m);
        System.err.printf(Locale.ROOT, "edgegen: autoencoder from %s, latents_mean %s, latents_std %s%n",
                cfg.autoencoder(), ae.vae().config.latentsMean(), ae.vae().config.latentsStd());
        TrainedModels.writeVae(ae.vae(), cfg.output().resolve("vae"));
        UNetConfig unetConfig = UNetConfig.fromJson(cfg.model(), config + " model");
        UNet2DConditionModel unet = new UNet2DConditionModel(unetConfig);
        unet.initializeFanIn(m, cfg.seed());
        if (cfg.init() != null && !resume) TrainedModels.initFrom(unet, cfg.init(), m);
        System.err.printf(Locale.ROOT, "edgegen: unet, %.2f M parameters%n", unet.parameterCount() / 1e6);
        MiniLmTextEncoder text = MiniLmTextEncoder.load(m, cfg.diffusion().maxTokens());
        DiffusionTask.LatentEncoder encoder = (images, rng) -> {
            try (Posterior p = ae.vae().encode(images); NDArray z = p.sample(rng)) {
                return ae.vae().toDiffusionLatents(z);
            }
        };
        int poolSize = cfg.data().pool();
        LatentPool pool = null;
        if (poolSize > 0) {
            // kept in the run directory, so a resumed stage does not encode it again (~4.5 min for 80,000 samples)
            Path cache = cfg.output().resolve("pool.safetensors");
            String key = poolKey(cfg);
            try {
                pool = LatentPool.load(cache, key, m, cfg.seed(), cfg.data().batchSize()).orElse(null);
            } catch (IOException e) { // e.g. cut short by a full disk: it is only a cache
                System.err.println("edgegen: " + e.getMessage() + "; encoding the pool again");
            }
            if (pool != null) {
                System.err.println("edgegen: latent pool of " + pool.size() + " samples from " + cache);
            } else {
                try (Autocast.Scope precision = cfg.trainer().precision().scope()) {
                    pool = LatentPool.encode(loader, poolSize, encoder, m, cfg.seed(), cfg.data().batchSize(), System.err);
                }
                pool.save(cache, key, m);
            }
        }
        // a pool's captions are a fixed set: keep them all encoded, with room for their negative captions
        CaptionCache captions = new CaptionCache((c, mm) -> text.encode(c, mm).hidden(), Math.max(4096, 2 * poolSize + 4096));
        if (pool != null) {
            try (Autocast.Scope precision = cfg.trainer().precision().scope()) {   // as the steps would encode them
                captions.warm(pool.captions(), 256, m, System.err);
                TrainConfig.Binding binding = cfg.diffusion().binding();
                if (binding.weight() > 0) captions.warm(negativeCaptions(pool, binding.negatives()), 256, m, System.err);
            }
        }
        Trainer.Task task = new DiffusionTask(unet::forward, encoder, captions::encode, loader, pool,
                cfg.diffusion().schedule(), cfg.diffusion().prediction(), cfg.diffusion().cfgDropout(), cfg.diffusion().minSnrGamma())
                .withAttentionLoss(new AttentionLoss(text::tokenizeOne), cfg.diffusion().attentionLoss())
                .withObjectWeight(cfg.diffusion().objectWeight(), cfg.diffusion().objectWeightMaxT())
                .withBindingLoss(cfg.diffusion().binding());
        try {
            return new Trainer(unet, cfg.trainer(), cfg.raw(), cfg.output(), m, cfg::trainable).run(task, resume, bar, true);
        } finally {
            text.close();
        }
    }
}
