/**
 * The words random prompts are made of. Each is one token for the simulator's tokenizer (one
 * whitespace-separated word = one token) and, with a leading space, a single token in common BPE
 * vocabularies (Llama 3, Qwen 2.5, GPT-2 family), so lengths stay close against a real vLLM.
 */
export const VOCABULARY: readonly string[] = Object.freeze(
  (
    "the of and to in is was for on that with as by at from his it an were are which this be has " +
    "or had not but first one their its new after who they have her she two been other when there " +
    "all during into school time may years more most only over city some world would where later up " +
    "such used many can state about national out known university united then made team him also " +
    "three between well both these while under high through new part each season being before he " +
    "government film since year number life early name south north west east series people work " +
    "music several called war group area best second four water family public could however until " +
    "member river long along game population end like different around house home league did no " +
    "because them based land small system same then club party album large main final center played " +
    "days city local light book line power green black white red blue open road field point start " +
    "great back show take place last left right good old small big run way day week month hour " +
    "page table chair door window garden tree flower bird fish dog horse cat car train ship plane " +
    "market store price money bank paper letter word story song voice color sound picture model " +
    "data test value level rate change order form plan case fact idea reason result problem answer"
  )
    .split(" ")
    .filter((w, i, all) => all.indexOf(w) === i),
);
