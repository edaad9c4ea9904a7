/**
 * Word lists of the search, written in ordinary spelling and folded when the module loads:
 * function words (dropped), weak words (kept for ranking, ignored when judging how much of a
 * question an entry covers), and the domain's abbreviations and colloquialisms.
 */
import { collapseRepeats, foldCyrillic } from "./fold";
import { isLatinWord } from "./normalize";
import { stemKy } from "./stem-ky";
import { stemRu } from "./stem-ru";

const STOP_RU = `и в во не на с со что а то так но да к у же вы за бы по только ее её мне было вот от
меня еще ещё о об из ему теперь даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж
вам ведь там потом себя ничего ей они тут есть ней для мы тебя их чем была сам чтоб будто чего раз
тоже себе будет ж тогда этот того потому этого совсем ним здесь этом почти мой моя моё мое мою тем чтобы
нее сейчас были всех при наконец хоть над через эти нас про всего них разве эту впрочем хорошо свою
этой перед иногда лучше чуть том им всегда конечно всю между это эта я ты он она оно наш наша наше
наши нашего нашем нашей нашу ваш ваша ваше вообще типа реально просто простыми словами пожалуйста
плиз подскажите скажите здравствуйте привет добрый день спасибо вопрос такое такая такой такие
там значит короче кстати щас ща вот уважаемые уважаемый извините вечер`;

const STOP_KY = `жана же менен үчүн деген бул ал алар ошол ошондой эле гана да дагы ооба мен сен биз силер
сиз менин сенин биздин сиздин анын алардын деп экен саламатсызбы саламатсыздарбы салам рахмат ушул тууралуу
жөнүндө кыскача жалпы азыр эми ар бир өзү өзүм өзүң өзүбүз өздөрү
бирок эгер эгерде анткени себеби ошондуктан андыктан ошентип деле дегеле эч го ко беле ээ чын чынында
албетте мисалы тим болсо болуп эмес эмеспи эмесби экенин экени азырынча жакында быйыл
мага сага ага бизге сизге силерге аларга мени сени аны бизди сизди аларды менде сенде анда бизде сизде
аларда менден сенден андан бизден сизден алардан булар мунун муну мындай ушундай андай ушуну ошону ошого
өзүнүн өзүнө өзүн өзүбүздүн нерсе нерселер баары бардыгы кээ бирөө
боюнча сыяктуу катары аркылуу чейин дейре ичинде тарабынан карата жараша
жатат жатам жатабыз жатышат жатабы турат калды дешет дешти деди дейт десе
билбейм билбейбиз билбей түшүндүрүп
кутман кайырлуу саламатсыңарбы ассалому алейкум агай агайлар эже эжеке эжелер урматтуу кымбаттуу
сураныч суранам чоң`;

/** Question words and modal verbs: they carry little of what a question is about. */
const WEAK = `кто что когда где куда откуда сколько скока какой какая какое какие каком какую каких зачем
почему как можно нужно надо нужен нужна нужны должен должна должны обязан может могут могу
каким какими какого какому кому кого чему
кантип ким кимдер качан кайда канча кандай кайсы эмне эмнеге эмнелер эмнени эмнеси барбы бар болобу
болот керек керекпи мүмкүн мүмкүнбү кылыш кылат алабы алат берет бериши
кимге кимден кимди кимдин кимиси кайдан кайсыл канчада качантан эмнеде эмнеден эмнелерге эмнелерди
кандайча болбойт болбосо болор тийиш тийишпи зарыл зарылбы алам аламбы алабыз алабызбы алышабы
алышат беришеби беришет берилет кылса кылсам кылсак кылабыз кылам келет
`;

function words(list: string): string[] {
  return list.split(/\s+/).filter(Boolean);
}

export function foldWord(word: string): string {
  return collapseRepeats(foldCyrillic(word.toLowerCase()));
}

/**
 * Folded, not collapsed: collapsing first would turn Kyrgyz words into Russian stop words
 * («тоого» → «того»).
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  [...words(STOP_RU), ...words(STOP_KY)].map((w) => foldCyrillic(w.toLowerCase())),
);
/**
 * Whether a typed word is a function word. A Latin word is one in any of its readings:
 * «salamatsyzby» reads «саламацызбы» first (ts → ц), and the greeting must not become the
 * question's most specific word.
 */
export function isStopToken(token: string, readings: () => readonly string[]): boolean {
  if (!isLatinWord(token)) return STOPWORDS.has(foldCyrillic(token));
  return readings().some((r) => STOPWORDS.has(r));
}

export const WEAK_WORDS: ReadonlySet<string> = new Set(words(WEAK).map(foldWord));

/**
 * Kyrgyz light verbs, by stem: «кыл-» ("do") carries the question's grammar in any form
 * («кылсам», «кылышыбыз», «кылуу»), never its subject.
 */
export const WEAK_STEMS: ReadonlySet<string> = new Set(
  ["кыл"].map((w) => collapseRepeats(stemKy(foldCyrillic(w)))),
);

/**
 * The country, its regions and larger towns (one-word names only). A question names them to say
 * where, not what it is about: «погода в Бишкеке» shares a word with the entry on Bishkek's
 * kenesh elections and is no nearer the FAQ's subject for it.
 */
const PLACES = `кыргызстан киргизия бишкек ош чүй чуй талас нарын баткен жалал джалал каракол токмок
балыкчы өзгөн узген`;

const PLACE_NAMES: readonly string[] = words(PLACES).map(foldWord);

/** Whether a folded word is one of the place names above, with a case ending or without. */
export function isPlaceName(surface: string): boolean {
  // Short endings only, so «ошибка» is not «Ош» («Оштон», «Бишкектеги» are).
  return PLACE_NAMES.some(
    (p) => surface.startsWith(p) && surface.length - p.length <= (p.length > 2 ? 4 : 3),
  );
}

/**
 * Names of two words that must stay one term, matched by the beginnings of their folded words
 * (any case ending) and indexed as `joined`. «Жогорку Кеңеш» is the national parliament: read as
 * two words, its «кеңеш» matches every entry about the local kenesh, and a question about
 * parliamentary elections was answered with the local ones. Such names are outside what the
 * FAQ answers, so entries that mention them in passing are not indexed under them: in a
 * question the name stays a content word no entry covers, which lowers the confidence.
 */
const COMPOUNDS_SOURCE: readonly { first: string; second: string; joined: string }[] = [
  { first: "жогорк", second: "кеңеш", joined: "жогоркукеңеш" },
];

export const COMPOUNDS: readonly { first: string; second: string; joined: string }[] =
  COMPOUNDS_SOURCE.map((c) => ({
    first: foldWord(c.first),
    second: foldWord(c.second),
    joined: foldWord(c.joined),
  }));

/** The joined compounds: never indexed from entries (see COMPOUNDS). */
export const UNINDEXED_TERMS: ReadonlySet<string> = new Set(COMPOUNDS.map((c) => c.joined));

/**
 * Abbreviations and colloquial words → what the FAQ texts say. The original word is kept too,
 * so an entry that uses the abbreviation itself still matches it.
 */
const SYNONYMS_SOURCE: Record<string, string> = {
  ао: "айыл окмоту",
  аө: "айыл өкмөтү",
  айылокмоту: "айыл окмоту",
  обс: "общественные бюджетные слушания",
  мсу: "местное самоуправление",
  омсу: "органы местного самоуправления",
  жөб: "жергиликтүү өз алдынча башкаруу",
  соцзаказ: "социальный заказ",
  госсоцзаказ: "государственный социальный заказ",
  горкенеш: "городской кенеш",
  айылкенеш: "айылный кенеш",
  нко: "некоммерческая организация",
  нпо: "некоммерческая организация",
  кэу: "коммерциялык эмес уюм",
  стимгрант: "стимулирующий грант",
  фпсу: "фонд перераспределения сельхозугодий",
  акф: "айыл чарба жерлеринин фонду",
  цик: "центральная избирательная комиссия выборы",
  бшк: "шайлоо комиссиясы",
  гагсмсу: "агентство по делам государственной службы и местного самоуправления",
  госадминистрация: "местная государственная администрация",
  райгосадминистрация: "районная государственная администрация",
  скока: "сколько",
  скоко: "сколько",
  скольки: "сколько",
  чё: "что",
  шо: "что",
  голосовалка: "опрос голосование",
  опросник: "опрос",
  слушалка: "слушания",
  инфа: "информация",
  инфо: "информация",
  доки: "документы",
  гос: "государственный",
  соц: "социальный",
  телеграм: "мессенджер чат-бот",
  телега: "мессенджер чат-бот",
  ватсап: "мессенджер",
  вотсап: "мессенджер",
  интернет: "онлайн",
  зум: "онлайн",
  ютуб: "онлайн",
  мусор: "мусор вывоз",
  депутатка: "депутат",
  сотрудник: "служащий",
  работник: "служащий",
  чиновник: "служащий",
  молчат: "не отвечают",
  игнорируют: "не отвечают",
  игнор: "не отвечают",
  закон: "мыйзам",
  мыйзам: "закон",
  // Kyrgyz: the words people type for what the entries call otherwise (matched by stem too).
  айылөкмөтү: "айыл өкмөтү",
  шааркеңеш: "шаардык кеңеш",
  жыйналыш: "сессия отурум",
  отурум: "сессия",
  чогулуш: "жыйын",
  токтом: "чечим",
  мүлк: "менчик",
  менчик: "мүлк",
  курс: "окутуу квалификация",
  окуу: "окутуу квалификация",
  мал: "жайыт",
  малчы: "жайыт",
  запрос: "суроо-талап",
  кызматкер: "кызматчы",
  кызматчы: "кызматкер",
  отчет: "отчет",
  эсеп: "отчет",
  кызыкчылык: "кызыкчылыктардын кагылышы",
  бизнес: "ишкердик предпринимательство",
  ишкер: "ишкердик",
  көчүрмө: "документ",
  кагаз: "документ",
  мекеме: "ишкана",
  калк: "тургундар",
  // «Теңдөөчү» is the everyday word for the grant the laws call «теңдештирүүчү».
  теңдөөчү: "теңдештирүүчү",
};

export const SYNONYMS: ReadonlyMap<string, string> = new Map(
  Object.entries(SYNONYMS_SOURCE)
    .filter(([, expansion]) => expansion !== "")
    .map(([word, expansion]) => [foldWord(word), expansion]),
);

const STEMMABLE = Object.entries(SYNONYMS_SOURCE).filter(
  ([word, expansion]) => expansion !== "" && word.length >= 3 && !/\d/.test(word),
);

/** The synonym table keyed by Kyrgyz stem, for inflected forms («жыйналышына» → «жыйналыш»). */
export const SYNONYM_STEMS: ReadonlyMap<string, string> = new Map(
  STEMMABLE.map(([word, expansion]) => [collapseRepeats(stemKy(foldCyrillic(word))), expansion]),
);

/** The same by Russian stem («сотрудников», «бизнесом» → «сотрудник», «бизнес»). */
export const SYNONYM_STEMS_RU: ReadonlyMap<string, string> = new Map(
  STEMMABLE.map(([word, expansion]) => [collapseRepeats(stemRu(foldCyrillic(word))), expansion]),
);
