//! Value vocabularies the detectors look words up in: common given names of several languages,
//! gender codes, religions, ethnic categories, health-condition terms, street and dwelling words,
//! organisation suffixes and name titles. All entries are lowercase ASCII-folded words; lookups go
//! through [`contains`] with a word folded the same way.

// foldhash: these sets are looked up for every word of every sampled value, and SipHash was a
// good part of profiling; the keys are ours, so flooding is not a concern here.
use foldhash::HashSet;
use std::sync::LazyLock;

/// Folds a word to lowercase ASCII into `buf` (common Latin diacritics lose their marks, `ß`
/// becomes `ss`); `None` if it does not fit or has a character that cannot be folded.
pub fn fold<'b>(word: &str, buf: &'b mut [u8; 48]) -> Option<&'b str> {
    let mut n = 0;
    let mut push = |b: u8, n: &mut usize| -> Option<()> {
        if *n == buf.len() {
            return None;
        }
        buf[*n] = b;
        *n += 1;
        Some(())
    };
    for c in word.chars() {
        if c.is_ascii() {
            push(c.to_ascii_lowercase() as u8, &mut n)?;
            continue;
        }
        let folded: &str = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
                "a"
            }
            'ç' | 'Ç' | 'č' | 'Č' | 'ć' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' | 'ę' | 'ė' | 'ě' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
            'ñ' | 'Ñ' | 'ń' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => {
                "o"
            }
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'ů' => "u",
            'ý' | 'ÿ' | 'Ý' => "y",
            'ß' => "ss",
            'š' | 'Š' | 'ś' => "s",
            'ž' | 'Ž' | 'ź' | 'ż' => "z",
            'ł' | 'Ł' => "l",
            'ř' => "r",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            _ => return None,
        };
        for b in folded.bytes() {
            push(b, &mut n)?;
        }
    }
    std::str::from_utf8(&buf[..n]).ok()
}

/// Whether `set` holds `word` once folded.
pub fn contains(set: &HashSet<&'static str>, word: &str) -> bool {
    let mut buf = [0u8; 48];
    fold(word, &mut buf).is_some_and(|w| set.contains(w))
}

fn set(words: &'static str) -> HashSet<&'static str> {
    words.split_whitespace().collect()
}

/// Common given names (English, German, Dutch, French, Italian, Spanish, Portuguese and others).
pub static GIVEN_NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    aaron abby abigail ada adam adrian adriana adrien agnes aidan aiden alan alba albert alberto alec
    alejandro alessandra alessandro alessia alex alexa alexander alexandra alexandre alexis alfie alfonso
    alfred alfredo ali alice alicia alina alison alistair allan allen allison alma alyssa amanda amber
    amelia amelie amir amira amy ana anabel andre andrea andreas andrew andy angela angelo angie anita
    ann anna anne annette annika anthony antoine anton antonia antonietta antonio april arianna ariel
    arjen arnaud arne arthur ashley astrid aurelie austin ava axel barbara barry bart bas bastian
    beatrice beatriz becky belinda ben benedikt benita benjamin benoit berend bernard bernd bert bertrand
    beth bethany betty bettina beverly bianca bill billy birgit bjorn blake bob bobby bonnie boris brad
    bradley brandon brenda brendan brett brian bridget britney brittany brock brooke bruce bruno bryan
    caitlin calvin cameron camille candice cara carina carl carla carlo carlos carly carmen carol
    caroline carolyn carrie casey cassandra catherine cathy cecilia cedric celine chad charlie charles
    charlotte chase chelsea cheryl chiara chloe chris christa christian christina christine christoph
    christopher cindy claire clara clare claudia claudio clement clemens cody colin colleen connor conor
    constance corinne cornelia craig cristina curtis cynthia daan dale damian damien dan dana daniel
    daniela daniele danielle danny dario darren dave david davide dawn dean debbie deborah debra declan
    denis denise dennis derek desiree diana diane diego dieter dirk dominic dominik dominique don donald
    donna doris dorothy douglas duncan dustin dylan eddie edgar edith eduardo edward edwin eileen elaine
    elena eleonora eleonore eli elias elif elisa elisabeth elise eliza elizabeth ella ellen ellie elsa
    emanuele emilia emilie emily emir emma emmanuel enrico enzo eric erica erik erika erin ernst esra
    esther ethan eugene eva evan evelyn fabian fabio fabienne fabrizia fabrizio fatima federica federico
    felix fenna fernando filip filippo finn fiona florian floris francesca francesco francis francisco
    franck frank franz fred frederick frederik freek frida fritz gabriel gabriela gabriele gabrielle gail
    gareth gary gavin geert george georg gerald gerard gerhard gert gianluca gianni gilbert gina giorgia
    giorgio giovanna giovanni gisele giulia giulio giuseppe glen glenn gloria gordon grace graham greg
    gregory greta guido guillaume gunther guus guusje gustavo gwen hannah hanna hannes hans harold harry
    hayley heather hector heidi heike heinz helen helena helene helga henk henri henrik henry herbert
    hidde holly howard hugo ian ibrahim ida igor ilse imke ines ingrid irene iris isaac isabel isabella
    isabelle ivan ivo jack jackie jacob jacqueline jacques jade jaime jake james jamie jan jana jane janet
    janice janine jannik jasmin jasmine jason javier jay jayden jean jeanne jeannette jeff jeffrey jenna
    jennifer jenny jeremy jerome jesse jessica jill jim jimmy jo joan joanna joanne jodi jody joe joel
    johan johann johanna johannes john johnny jon jonas jonathan jordan jordi jorge jose josef joseph
    josephine josh joshua joyce juan judith judy jules julia julian juliana julie julien juliette julius
    jurgen justin jutta juul kai karen karin karl kate katharina katherine kathleen kathryn kathy katie
    katrin kay kayla kayleigh keith kelly ken kenneth kerry kevin kim kimberly kirsten klaus koen kristin
    kurt kyle lara larry laura lauren laurens laurent lea leah lee leila lena leo leon leonardo leonie
    leslie levi liam lily lina linda lisa lorenzo lorraine lotte louis louise luc luca lucas lucia
    luciano lucy ludwig luis luisa luka lukas luke lydia lynn madeleine madison maja manon manuel
    manuela marc marcel marco marcus margaret margot maria mariana marianne marie mario marion marisa
    marjolein mark marko marta martha martin martina marvin mary mason massimo mathieu mathilde matteo
    matthew matthias matthijs maureen maurice max maxim maxime maximilian megan meike melanie melissa
    mercedes mia michael michaela michel michele michelle miguel mike milan milou miranda miriam mohamed
    mohammed monica monika morgan nadia nadine naomi natalia natalie nathalie nathan neil nick nicholas
    nicola nicolas nicolaus nicole niels nicolai nikolai nina noah noel noemi nora norbert norman oliver
    olivia olaf omar oscar otto owen pablo paola paolo pascal pasquale patricia patrick paul paula
    pauline pedro peggy penelope peter petra philip philippe philippine phillip pierre pieter pietro
    pina priscilla rachel rafael raffaele ralf ralph ramon randy raphael raquel ray raymond rebecca
    regina reinhard renate rene ricardo riccardo richard rick rita rob robbie robert roberta roberto
    robin rodney roger roland roman ronald ronnie rosa rose rosemary ross rowan ruben rudolf rudy rui
    russell ruth ryan sabine sabrina sally salvatore sam samantha samuel sandra sandro sara sarah sascha
    scott sean sebastian sebastien serena sergio shannon sharon shaun sheila shirley sigrun silvia simon
    simone siegmund sofia sonia sophia sophie stacy stefan stefania stefanie stefano stella stephan
    stephanie stephen steve steven stijn susan susanne suzanne sven sylvia tamara tanja tanya ted teresa
    terry thea theo theresa thierry thijs thomas tim timo timothy tina tobias todd tom tommaso toni tony
    tracy travis trevor tristan troy ulrich ursula valentina valentin valeria valerie vanessa vera
    veronica veronique victor victoria vincent vincenzo viola virginie vivian walter wayne wendy werner
    wesley willem william wim wolfgang xavier yannick yara yasmin yusuf yvonne zachary zoe
    aisha akira amit anil arjun chen deepak fatma hiroshi hui jin jun kenji li ling mehmet ming mustafa
    priya rahul raj ravi sanjay sunil wei xin yuki yusuf ahmed hassan hussein karim khalid yasmine
    ")
    .into_iter()
    .chain(MORE_GIVEN_NAMES.split_whitespace())
    .collect()
});

/// More common given names of the languages the schemas we meet are written in (Portuguese,
/// Spanish, French, German, Dutch, Polish, the Nordic languages), from national name statistics.
const MORE_GIVEN_NAMES: &str = "
    joao paulo marcos marcelo rodrigo felipe thiago tiago vitor vinicius luiz luis leandro fabio
    fernanda camila leticia larissa bruna aline renata vanessa juliana adriana raquel luana tatiana
    francisca antonia conceicao aparecida rosangela marcia sonia vera regina cristiane simone
    raul ignacio alvaro jesus ramon enrique gonzalo ruben santiago mateo hugo marcos nicolas
    lucia marta pilar rocio dolores josefa concepcion mercedes irene nuria silvia alba noelia
    alain christophe francois frederic olivier stephane sylvie sandrine nathalie valerie celine
    veronique martine nicole brigitte dominique mathilde chantal jacqueline josette monique
    uwe jorg gunter helmut manfred horst dieter ute heike birgit gabriele kerstin anke silke
    tobias florian jonas lukas moritz niklas leonie lea hannah marie sophie emma mia
    kees joost ruud wouter jeroen sander bram anouk sanne femke lieke maartje jeroen pim
    piotr krzysztof tomasz pawel michal marcin jakub katarzyna agnieszka malgorzata magdalena
    ewa joanna barbara zofia
    lars nils anders per ole jens kjell sigrid linnea elin karin inger solveig mikko jukka
    ";

/// Common family names of several countries (United States, United Kingdom, Germany, France,
/// Spain, Mexico, Portugal, Brazil, Italy, the Netherlands, Belgium, Poland, the Nordic
/// countries, East and South Asia), from national name statistics. Words that are as often
/// something else in a column of their own (colours, seasons, trades, cities) are left out:
/// a column of `Black`/`Green`/`Grey` is colours.
pub static SURNAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    smith johnson williams jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
    wilson anderson thomas taylor moore martin lee perez thompson harris sanchez clark ramirez
    lewis robinson walker allen wright scott torres nguyen adams nelson hall rivera campbell
    mitchell carter roberts gomez phillips evans diaz parker cruz edwards collins reyes stewart
    morris morales murphy rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard
    ramos kim cox ward richardson watson brooks chavez bennett mendoza ruiz hughes alvarez
    castillo sanders patel myers ross foster jimenez powell jenkins perry russell sullivan
    coleman butler henderson barnes gonzales vasquez simmons romero patterson hamilton graham
    reynolds griffin wallace moreno cole hayes bryant herrera gibson ellis tran aguilar stevens
    murray marshall owens harrison fernandez mcdonald woods kennedy wells vargas chen freeman
    webb tucker guzman burns crawford olson simpson gordon mendez silva shaw snyder dixon munoz
    hicks holmes palmer wagner robertson boyd salazar warren mills meyer schmidt garza daniels
    ferguson nichols stephens soto weaver ryan gardner payne dunn kelley spencer hawkins arnold
    pierce vazquez hansen peters santos bradley elliott cunningham duncan armstrong hudson
    carroll riley andrews alvarado delgado perkins hoffman johnston matthews pena richards
    contreras willis lawrence sandoval davies clarke khan jackson o'brien obrien walsh byrne
    mccarthy doyle kelly oconnor o'connor macdonald campbell stewart robertson
    muller mueller schneider fischer weber becker schulz hoffmann schafer schaefer richter
    schroder schroeder neumann schwarz zimmermann braun kruger krueger hofmann hartmann schmitt
    werner schmitz krause meier lehmann schmid schulze maier kohler koehler herrmann konig
    koenig mayer huber kaiser peters scholz moller moeller weiss hahn schubert friedrich keller
    gunther guenther berger winkler lorenz baumann franke albrecht schuster ludwig bohm boehm
    schumacher kramer kraemer vogt jager jaeger seidel heinrich brandt haas schreiber schulte
    dietrich ziegler kuhn pohl busch bergmann voigt sauer wolff pfeiffer
    bernard petit durand dubois moreau laurent lefebvre leroy bertrand morel fournier girard
    bonnet dupont lambert fontaine rousseau mercier guerin boyer garnier chevalier legrand
    gauthier perrin clement morin roussel mathieu gautier masson duval dumont lemaire dufour
    meunier blanchard giraud joly riviere brunet gaillard barbier arnaud gerard renard caron
    picard fabre aubert lemoine renaud dumas lacroix bourgeois leclerc rolland leclercq
    lecomte dupuy guillot hubert dupuis moulin deschamps huet vasseur boucher fleury royer
    jacquet poirier aubry guyot renault charpentier menard maillard bertin bailly herve
    rodriguez navarro dominguez serrano molina suarez ortega castro rubio marin sanz nunez
    iglesias garrido cortes lozano guerrero cano prieto calvo gallego marquez vidal cabrera
    fuentes carrasco diez caballero nieto pascual santana herrero montero lorenzo hidalgo
    gimenez ibanez ferrer duran benitez arias carmona crespo pastor saez velasco moya soler
    parra esteban gallardo rojas juarez velazquez estrada bautista espinoza avila cervantes
    mejia solis valdez ibarra cardenas
    oliveira souza sousa ferreira alves pereira gomes costa ribeiro martins carvalho almeida
    lopes soares fernandes vieira barbosa rocha dias nascimento andrade moreira nunes marques
    machado mendes freitas cardoso goncalves teixeira araujo pinto correia monteiro cavalcanti
    moura batista melo reis coelho rezende miranda azevedo brito fonseca
    rossi russo ferrari esposito bianchi romano colombo ricci greco gallo conti mancini
    giordano rizzo lombardi moretti barbieri fontana santoro mariani rinaldi caruso galli
    martini longo gentile martinelli vitale lombardo coppola marchetti parisi ferraro ferri
    fabbri marini grasso valentini messina pellegrini palumbo sanna farina rizzi monti
    cattaneo morelli amato silvestri mazza grassi pellegrino carbone giuliani benedetti
    barone rossetti caputo montanari palmieri bernardi sorrentino orlando
    jong jansen vries dijk bakker janssen visser smit meijer boer mulder groot bos vos
    hendriks leeuwen dekker brouwer dijkstra smits graaf linden vermeulen heuvel veen broek
    bruijn heijden schouten willems vliet hoekstra maas verhoeven koster wal prins blom
    huisman peeters kuipers postma claes goossens wouters maes jacobs mertens janssens
    nowak kowalski wisniewski wojcik kowalczyk kaminski lewandowski zielinski szymanski
    wozniak dabrowski kozlowski jankowski mazur wojciechowski kwiatkowski krawczyk kaczmarek
    piotrowski grabowski pawlowski michalski wieczorek jablonski nowakowski majewski
    olszewski malinowski kowalska wisniewska wojcikowa lewandowska zielinska nowakowska
    johansen olsen larsen andersen pedersen nilsen kristiansen jensen karlsen johnsen
    pettersen eriksen haugen johannessen andreassen jacobsen halvorsen henriksen sorensen
    jakobsen gundersen iversen solberg svendsen knutsen martinsen paulsen kristoffersen
    mathisen amundsen rasmussen christensen nielsen madsen kristensen thomsen poulsen
    mortensen johansson andersson karlsson nilsson eriksson larsson olsson persson svensson
    gustafsson pettersson jonsson jansson hansson bengtsson lindberg jakobsson magnusson
    olofsson lindstrom lindqvist lindgren axelsson bergstrom lundberg lundgren lundqvist
    mattsson berglund fredriksson sandberg henriksson forsberg sjoberg wallin engstrom
    eklund danielsson lundin hakansson gunnarsson korhonen virtanen makinen nieminen makela
    hamalainen laine heikkinen koskinen jarvinen lehtonen lehtinen saarinen salminen
    heinonen heikkila kinnunen salonen turunen laitinen tuominen rantanen karjalainen
    wang zhang liu yang huang zhao zhou zhu guo lin gao luo liang song zheng xie
    park choi jung kang yoon jang sato suzuki takahashi tanaka watanabe ito yamamoto
    nakamura kobayashi kato yoshida yamada sasaki pham hoang singh kumar sharma gupta shah
    ahmed hussain rahman chowdhury mehta iyer reddy nair
    ")
});

/// Gender and sex values in several languages and codings (letters, words).
pub static GENDER_VALUES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    m f male female man woman boy girl x u o d w v nb non-binary nonbinary non_binary diverse divers
    other unknown undisclosed intersex transgender trans genderqueer agender
    mannlich weiblich maennlich mann frau herr
    vrouw vrouwelijk mannelijk
    homme femme masculin feminin
    hombre mujer masculino femenino feminino mulher
    maschio femmina maschile femminile uomo donna
    ")
});

/// Religions and beliefs.
pub static RELIGIONS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    christian christianity catholic roman protestant orthodox evangelical lutheran anglican baptist
    methodist presbyterian pentecostal mormon lds adventist jehovah's quaker calvinist reformed
    religion religious irreligious nonreligious
    muslim islam islamic sunni shia shiite jewish judaism hindu hinduism buddhist buddhism sikh sikhism
    jain jainism shinto taoist taoism bahai baha'i zoroastrian pagan wiccan atheist atheism agnostic
    agnosticism secular humanist spiritual unitarian confucian druze rastafarian
    christ christen christlich katholisch evangelisch protestantisch muslimisch judisch konfessionslos
    katholiek protestants moslim joods hindoeistisch boeddhistisch atheistisch
    chretien catholique protestant musulman juif hindou bouddhiste athee
    cristiano catolico protestante musulman judio ateo
    cattolico ebreo buddista induista
    catolica cristiana evangelica evangelico judia musulmana islamico islamica budista hinduista
    agnostica atea ateu adventista espirita umbanda candomble jehova testigo testigos testemunha
    ortodoxo ortodoxa anglicano luterano bautista pentecostal protestantes
    romisch-katholisch roemisch-katholisch altkatholisch freikirchlich orthodox neuapostolisch
    rooms-katholiek hervormd gereformeerd islamitisch hindoe
    orthodoxe protestante israelite
    ")
});

/// Ethnic and racial categories (census-style, several countries).
pub static ETHNICITIES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    white black asian hispanic latino latina latinx caucasian african american indian alaska
    native hawaiian pacific islander mixed multiracial biracial arab middle eastern chinese
    pakistani bangladeshi caribbean irish british gypsy traveller roma sinti aboriginal torres strait
    maori inuit metis first nations indigenous korean japanese filipino vietnamese
    afro-american afro-caribbean european hispanic/latino races
    branca branco preta preto parda pardo amarela amarelo indigena quilombola afrodescendente
    blanca blanco negra negro mestiza mestizo mulata mulato afrodescendiente gitana gitano
    autochtoon allochtoon westers niet-westers
    ")
});

/// Words that make a value a health condition (diagnosis names and their common stems).
pub static HEALTH_TERMS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    disorder disease syndrome deficiency infection diabetes mellitus asthma hypertension hypotension
    migraine cancer carcinoma tumor tumour fracture injury dementia alzheimer alzheimer's parkinson
    parkinson's epilepsy depression depressive anxiety allergy allergic arthritis osteoarthritis obesity
    anemia anaemia pneumonia influenza covid covid-19 hiv aids hepatitis stroke infarction
    insufficiency dependence unspecified chronic acute rhinitis dermatitis eczema psoriasis reflux
    ulcer hernia sclerosis autism adhd schizophrenia bipolar insomnia apnea apnoea gout lupus tinea
    angina arrhythmia fibrillation copd bronchitis sinusitis cystitis gastritis conjunctivitis otitis
    fever cough pain nausea malaria tuberculosis measles hypothyroidism hyperthyroidism hyperlipidemia
    hypercholesterolemia fibromyalgia cirrhosis neuropathy cardiomyopathy leukemia leukaemia lymphoma
    melanoma sepsis concussion sprain strain obstructive pulmonary renal cardiac hepatic syndrome
    ptsd ocd intractable complications uncomplicated symptoms pregnancy gestational hyperglycemia
    hypoglycemia kidney heart failure nicotine alcohol opioid
    krankheit erkrankung storung diabetes schmerzen
    maladie trouble douleur diabete asthme
    enfermedad trastorno dolor
    doenca transtorno
    malattia disturbo dolore
    ziekte aandoening stoornis
    hipertension hipertensao hypertonie hypertensie asma asthme astma diabetica diabetico
    neumonia pneumonie longontsteking insuficiencia insuffisance cronica cronico chronisch chronique
    obesidad obesidade adipositas obesite obesitas tuberculose tuberkulose depresion depressao
    depressie cancer krebs kanker cancro tumeur tumor hanseniase lepra dengue zika chikungunya
    sifilis syphilis hepatite infarto herzinfarkt ictus avc epoc dpoc bpco leucemia esquizofrenia
    ansiedad ansiedade alergia allergie fractura fratura sindrome syndrom infeccion infeccao
    infektion neoplasia neoplasie demencia demenz epilepsia epilepsie artritis artrite arthrose
    ")
});

/// Street-type words of several languages (standalone tokens).
pub static STREET_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    street st str road rd avenue ave av lane ln drive dr boulevard blvd way court ct place pl square sq
    terrace close crescent highway hwy parkway pkwy circle cir trail row walk grove gardens mews
    rue chemin allee impasse quai route bd
    calle avenida avda plaza paseo camino carrera carretera
    rua travessa praca largo estrada alameda
    via viale piazza corso vicolo strada
    straat laan plein gracht kade dijk singel weg
    strasse allee gasse platz ring damm ufer
    ")
});

/// Suffixes that make a compound word a street name (`Stationsweg`, `Friedrichstraße`).
pub const STREET_SUFFIXES: &[&str] = &[
    "straat", "strasse", "str.", "weg", "laan", "plein", "gracht", "kade", "dijk", "singel",
    "steeg", "allee", "gasse", "platz", "damm", "ufer", "hof", "markt",
];

/// Words of a dwelling or delivery line (`Flat 7`, `Appt 35`, `3e verdieping`).
pub static DWELLING_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    apt apartment appt app appartement flat suite ste unit floor fl bat batiment etage verdieping
    piso andar scala interno box po postbus bus wohnung stock building bldg block lot
    ")
});

/// Legal-form suffixes and words that make a name an organisation's.
pub static ORG_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    inc inc. ltd ltd. llc llp plc corp corp. corporation co co. company gmbh ag kg ohg ug bv b.v. nv
    n.v. vof sa s.a. sas sarl spa s.p.a. srl s.r.l. sl oy ab as aps
    group holding holdings partners associates and & store shop shops gadgets closet boutique
    services solutions systems technologies industries enterprises trading consulting bakery
    cafe restaurant hotel bank university college school clinic hospital foundation
    ")
});

/// Titles, honorifics and name particles that may appear inside a person's name.
pub static NAME_PARTS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    dr dr. mr mr. mrs mrs. ms ms. miss prof prof. md phd jr jr. sr sr. ii iii iv sir dame
    van von der den de del della di da dos das du le la ten ter 't bin al el y e mc mac st st.
    herr frau mevr dhr mme mlle sig sig.ra sra sr
    ")
});
